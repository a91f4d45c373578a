package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// stopGrace bounds a bridge's graceful stop when a node closes.
const stopGrace = 5 * time.Second

// bridgeNode is one peerbridge node as the daemon runs it by default: an
// embedded nats-server, the bridge's in-process nats.go connection to it
// (for requests to local services) and its own loopback connections for
// the hot path, a connector on a loopback UDP socket and the bridge
// between them.
type bridgeNode struct {
	srv    *Server
	nc     *nats.Conn // the bridge's own, in process
	conn   *connector.Connector
	bridge *bridge.Bridge
}

// startBridgeNode starts a node; on failure it stops what it started.
func startBridgeNode(ctx context.Context, name string) (*bridgeNode, error) {
	srv, err := StartServer(ctx, ServerConfig{Name: name})
	if err != nil {
		return nil, err
	}
	n := &bridgeNode{srv: srv}
	if err := n.start(ctx, name); err != nil {
		return nil, errors.Join(err, n.close())
	}
	return n, nil
}

func (n *bridgeNode) start(ctx context.Context, name string) error {
	var err error
	n.nc, err = nats.Connect("", nats.InProcessServer(n.srv.Server), nats.Name(name+"-bridge"),
		nats.NoReconnect(), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		return fmt.Errorf("bench: %s: connecting the bridge in process: %w", name, err)
	}
	if n.conn, err = startConnector(ctx, nil); err != nil {
		return fmt.Errorf("bench: %s: %w", name, err)
	}
	addr := n.srv.Addr().String()
	dial := func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	n.bridge, err = bridge.New(bridge.Config{Dial: dial}, n.nc, n.conn, nil)
	if err != nil {
		return fmt.Errorf("bench: %s: %w", name, err)
	}
	n.conn.SetHandler(n.bridge)
	if err := n.bridge.Start(ctx); err != nil {
		n.bridge = nil
		return fmt.Errorf("bench: %s: %w", name, err)
	}
	return nil
}

// startConnector starts a connector on an ephemeral loopback port with a
// new identity, answering with h (nil: none).
func startConnector(ctx context.Context, h connector.Handler) (*connector.Connector, error) {
	id, err := identity.Generate()
	if err != nil {
		return nil, err
	}
	c, err := connector.New(connector.Config{ListenAddr: loopback + ":0"}, id, nil)
	if err != nil {
		return nil, err
	}
	if h != nil {
		c.SetHandler(h)
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// target is how other nodes address n: node ID and endpoint.
func (n *bridgeNode) target() connector.Target { return targetOf(n.conn) }

func targetOf(c *connector.Connector) connector.Target {
	return connector.Target{NodeID: c.NodeID(), Endpoint: c.Addr().String()}
}

// close stops the bridge, then the connector, the connection and the
// server, whatever of them started.
func (n *bridgeNode) close() error {
	var errs []error
	if n.bridge != nil {
		ctx, cancel := context.WithTimeout(context.Background(), stopGrace)
		errs = append(errs, n.bridge.Stop(ctx))
		cancel()
	}
	if n.conn != nil {
		errs = append(errs, n.conn.Close())
	}
	if n.nc != nil {
		n.nc.Close()
	}
	n.srv.Stop()
	return errors.Join(errs...)
}
