package connector

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// NATOptions steer NAT traversal for one message (Outbound.Route), like the
// options of macula's send_message_nat_aware. They matter only when the
// pool has no connection to the peer and no known address of it works.
type NATOptions struct {
	// Endpoint: try the peer here first ("host:port").
	Endpoint string
	// RelayEndpoint relays through this gateway ("NODEID@host:port" or
	// "host:port") instead of the configured ones.
	RelayEndpoint string
	// SkipHolePunch goes straight from a failed direct dial to the relay.
	SkipHolePunch bool
}

// ReservedTypePrefix starts the message types that NAT traversal's control
// messages use between bridges and gateways. The bridge refuses user
// messages whose type starts with it, so nothing published on NATS can pose
// as a gateway's message.
const ReservedTypePrefix = "$pb."

// A Router finds a path to a node the pool has no connection for and no
// reachable address: NAT traversal. On success the new connection has been
// handed to Adopt or made with DialPath, so it is in the pool.
type Router interface {
	Route(ctx context.Context, id identity.NodeID, opts NATOptions) error
}

// SetRouter installs NAT traversal for targets that name only a node ID.
func (c *Connector) SetRouter(r Router) { c.router.Store(&r) }

func (c *Connector) getRouter() Router {
	if r := c.router.Load(); r != nil {
		return *r
	}
	return nil
}

// route asks the router for a path to id and returns the pooled connection.
// Concurrent callers share one attempt, steered by the first one's opts.
func (c *Connector) route(ctx context.Context, id identity.NodeID, opts NATOptions, cause error) (*peerConn, error) {
	r := c.getRouter()
	if r == nil || id == "" {
		return nil, cause
	}
	key := "route:" + string(id)
	call, leader := c.pool.startDial(key)
	if leader {
		var pc *peerConn
		err := r.Route(ctx, id, opts)
		if err == nil {
			if pc, _ = c.pool.lookup(Target{NodeID: id}); pc == nil {
				err = fmt.Errorf("%w: route to %s found no connection", ErrUnreachable, id.Short())
			}
		}
		c.pool.finishDial(key, call, pc, err)
	}
	select {
	case <-call.done:
		return call.pc, call.err
	case <-ctx.Done():
		return nil, timeoutOr(ctx, ctx.Err())
	}
}

// Adopt takes over a connection that NAT traversal established (accepted or
// dialled on another transport) and pools it, labelled with path. A better
// path (direct or punched) replaces a relayed one in the pool; the relayed
// connection finishes what is in flight and closes when idle.
func (c *Connector) Adopt(qc *quic.Conn, path Path) error {
	_, err := c.adopt(qc, path)
	return err
}

// DialPath dials addr on transport tr (nil means the connector's own) and
// pools the connection labelled with path. The peer must prove want.
func (c *Connector) DialPath(ctx context.Context, tr *quic.Transport, addr net.Addr, want identity.NodeID, path Path) error {
	if tr == nil {
		tr = c.tr
	}
	c.stats.dials.Add(1)
	var mismatch atomic.Pointer[identity.MismatchError]
	qc, err := tr.Dial(ctx, addr, c.id.ClientTLS(want, &mismatch), c.quicConf)
	if err != nil {
		c.stats.dialFailures.Add(1)
		if m := mismatch.Load(); m != nil {
			return m
		}
		return fmt.Errorf("%w: dialling %s via %s: %w", ErrUnreachable, want.Short(), addr, err)
	}
	_, err = c.adoptAt(qc, path, "", true)
	return err
}

// ExpectPath labels the next inbound connection from id with path, for a
// connection a hole punch makes the peer dial. The label lapses if no
// connection from id arrives within 15 seconds.
func (c *Connector) ExpectPath(id identity.NodeID, path Path) {
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	c.pool.expectLocked(id, path)
}

// PathTo reports how the pooled connection to id runs, if there is one.
func (c *Connector) PathTo(id identity.NodeID) (Path, bool) {
	pc, _ := c.pool.lookup(Target{NodeID: id})
	if pc == nil || !pc.alive() {
		return "", false
	}
	return pc.path, true
}

// RTT returns the smoothed round-trip time of the pooled connection to id.
func (c *Connector) RTT(id identity.NodeID) (time.Duration, bool) {
	pc, _ := c.pool.lookup(Target{NodeID: id})
	if pc == nil || !pc.alive() {
		return 0, false
	}
	return pc.qc.ConnectionStats().SmoothedRTT, true
}

// Identity returns the node's identity, for transports NAT traversal makes.
func (c *Connector) Identity() *identity.Identity { return c.id }

// QUICConfig returns a copy of the QUIC configuration the connector uses.
func (c *Connector) QUICConfig() *quic.Config { return c.quicConf.Clone() }
