package modules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/membership"
	"github.com/peerbridge/peerbridge/modules/admin"
	"github.com/peerbridge/peerbridge/modules/metrics"
	"github.com/peerbridge/peerbridge/modules/status"
	"github.com/peerbridge/peerbridge/natpunch"
)

// ObserveModule makes the daemon observable: one Prometheus registry with
// the bridge's collector, a log line per peer connection opened, closed or
// moved to another path, the peerbridge NATS micro service, and, when
// Config.HTTP is set, /metrics and /healthz. It provides *metrics.Bridge
// (the bridge module installs it as the bridge's observer) and
// *admin.Server (nil without Config.HTTP).
var ObserveModule = fx.Module("observe",
	fx.Provide(metrics.NewRegistry, newBridgeMetrics, newDaemonAdmin),
	fx.Invoke(registerService, registerNATClientMetrics, func(*admin.Server) {}),
)

// registerNATClientMetrics exports the state of the bridge's NAT client:
// its TCP relay and its port mapping.
func registerNATClientMetrics(reg *prometheus.Registry, cl *natpunch.Client) error {
	if err := metrics.NewPortMap(cl).Register(reg); err != nil {
		return err
	}
	return metrics.NewTCPRelay(cl).Register(reg)
}

func newBridgeMetrics(reg *prometheus.Registry, cfg Config, c *connector.Connector, p *membership.Policy, log *slog.Logger) (*metrics.Bridge, error) {
	m := metrics.NewBridge(c)
	m.WatchMembership(p)
	m.WatchGateways(gatewayIDs(cfg))
	if err := m.Register(reg); err != nil {
		return nil, err
	}
	log = log.With("component", "connector")
	c.SetEvents(func(e connector.Event) {
		m.Event(e)
		logEvent(log, e)
	})
	return m, nil
}

// logEvent writes one info line per connection opened or closed and per
// path change.
func logEvent(log *slog.Logger, e connector.Event) {
	switch e.Kind {
	case connector.EventOpened:
		log.Info("peer connection opened", "node", string(e.Node), "path", string(e.Path), "remote", e.Remote.String())
	case connector.EventClosed:
		log.Info("peer connection closed", "node", string(e.Node), "path", string(e.Path), "reason", e.Reason)
	case connector.EventPathChanged:
		log.Info("peer path changed", "node", string(e.Node), "from", string(e.From), "to", string(e.Path))
	}
}

func newDaemonAdmin(lc fx.Lifecycle, cfg Config, reg *prometheus.Registry, n *NATS, c *connector.Connector, log *slog.Logger) (*admin.Server, error) {
	return newAdmin(lc, reg, log, admin.Config{Addr: cfg.HTTP, MaxConns: cfg.HTTPMaxConns, Checks: []admin.Check{
		{Name: "nats", Fn: n.healthy},
		{Name: "quic", Fn: func() error {
			if !c.Listening() {
				return errors.New("socket not bound")
			}
			return nil
		}},
	}})
}

// newAdmin returns the HTTP server of cfg serving reg, started and stopped
// with the app, or nil if cfg.Addr is empty. Its connection counts join reg.
func newAdmin(lc fx.Lifecycle, reg *prometheus.Registry, log *slog.Logger, cfg admin.Config) (*admin.Server, error) {
	if cfg.Addr == "" {
		return nil, nil
	}
	cfg.Gatherer = reg
	s, err := admin.New(cfg, log.With("component", "http"))
	if err != nil {
		return nil, err
	}
	if err := metrics.NewHTTP(s).Register(reg); err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{OnStart: s.Start, OnStop: func(context.Context) error { return s.Close() }})
	return s, nil
}

// healthy reports whether the NATS connection is up.
func (n *NATS) healthy() error {
	nc := n.Conn
	if nc == nil {
		return errors.New("not connected")
	}
	if st := nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("not connected (%s)", st)
	}
	if hot := n.hotErr.Load(); hot != nil {
		if err := (*hot)(); err != nil {
			return fmt.Errorf("bridge's connection: %w", err)
		}
	}
	return nil
}

// gatewayIDs are the node IDs of the configured gateways.
func gatewayIDs(cfg Config) []identity.NodeID {
	var ids []identity.NodeID
	for _, g := range cfg.Gateways {
		ids = append(ids, g.NodeID)
	}
	return ids
}

// registerService announces the bridge as the peerbridge micro service
// from start to stop.
func registerService(lc fx.Lifecycle, cfg Config, n *NATS, c *connector.Connector, p *membership.Policy) {
	var svc micro.Service
	lc.Append(fx.Hook{
		OnStart: func(context.Context) (err error) {
			svc, err = status.Register(n.Conn, status.ServiceConfig{Node: string(c.NodeID()), Version: cfg.Version, Membership: p.Membership, Gateways: gatewayIDs(cfg)}, c)
			return err
		},
		OnStop: func(context.Context) error {
			if svc == nil {
				return nil
			}
			return svc.Stop()
		},
	})
}
