package wan

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"time"

	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/modules"
	"github.com/peerbridge/peerbridge/natpunch"
)

// stopTimeout bounds stopping a bridge or a server.
const stopTimeout = 15 * time.Second

// daemon is one bridge composed exactly as 'peerbridge run' composes it,
// with its embedded nats-server listening for clients on loopback.
type daemon struct {
	app  *fx.App
	conn *connector.Connector
	nats *modules.NATS
	nat  *natpunch.Client // nil without a gateway
}

// startDaemon runs a bridge whose QUIC socket is on addr (a free port),
// with its key in dir, peers as --peer gives them and the gateway of o, if
// any, as --gateway does.
func startDaemon(ctx context.Context, addr netip.Addr, dir string, peers []connector.Target, o Options) (*daemon, error) {
	cfg := modules.Config{
		KeyFile: filepath.Join(dir, "bridge.key"),
		Listen:  net.JoinHostPort(addr.String(), "0"),
		Peers:   peers,
	}
	if o.Gateway != "" {
		gw, err := connector.ParseTarget(o.Gateway)
		if err != nil {
			return nil, fmt.Errorf("wan: gateway %q: %w", o.Gateway, err)
		}
		cfg.Gateways = []connector.Target{gw}
	}
	cfg.NATS.Listen = "127.0.0.1:0"
	d := &daemon{}
	d.app = fx.New(
		fx.NopLogger,
		fx.Supply(slog.New(slog.DiscardHandler)),
		modules.Daemon(cfg),
		fx.Populate(&d.conn, &d.nats, &d.nat),
	)
	if err := d.app.Err(); err != nil {
		return nil, fmt.Errorf("wan: composing the bridge: %w", err)
	}
	if err := d.app.Start(ctx); err != nil {
		return nil, fmt.Errorf("wan: starting the bridge: %w", err)
	}
	return d, nil
}

// target is how a peer addresses this bridge: node ID and QUIC endpoint.
func (d *daemon) target() connector.Target {
	return connector.Target{NodeID: d.conn.NodeID(), Endpoint: d.conn.Addr().String()}
}

// relayStats are the bridge's relay counters; zero without a gateway.
func (d *daemon) relayStats() natpunch.RelayStats {
	if d.nat == nil {
		return natpunch.RelayStats{}
	}
	return d.nat.RelayStats()
}

// close stops the bridge gracefully.
func (d *daemon) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := d.app.Stop(ctx); err != nil {
		return fmt.Errorf("wan: stopping the bridge: %w", err)
	}
	return nil
}
