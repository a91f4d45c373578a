package modules

import (
	"context"
	"errors"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/membership"
	"github.com/peerbridge/peerbridge/modules/admin"
	"github.com/peerbridge/peerbridge/modules/metrics"
	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/natpunch/fleet"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/portmap"
)

// TraversalModule provides the bridge's NAT traversal: registration with
// Config.Gateways, NAT probing, hole punching and relaying for targets that
// name only a node ID. With no gateways it only routes nothing.
var TraversalModule = fx.Module("traversal",
	fx.Provide(newTraversal),
)

func newTraversal(lc fx.Lifecycle, cfg Config, c *connector.Connector, p *membership.Policy, log *slog.Logger) (*natpunch.Client, error) {
	l := cfg.NATLimits
	var pm *portmap.Config
	if cfg.PortMapping && len(cfg.Gateways) > 0 {
		pm = &portmap.Config{}
	}
	cl, err := natpunch.NewClient(c, natpunch.ClientConfig{
		Gateways:     cfg.Gateways,
		Accept:       p.Accepts,
		TCPRelay:     cfg.TCPRelay,
		PortMap:      pm,
		PunchPackets: l.PunchPackets, PunchesPerMinute: l.PunchesPerMinute, MaxPunches: l.MaxPunches,
		RelayIdleTimeout: l.RelayIdleTimeout, MaxRelaySessionsPerPeer: l.MaxRelaySessionsPerPeer, MaxRelaySessions: l.MaxRelaySessions,
	}, log.With("component", "natpunch"))
	if err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{
		OnStart: cl.Start,
		OnStop:  func(context.Context) error { return cl.Close() },
	})
	return cl, nil
}

// GatewayConfig configures 'peerbridge gateway'.
type GatewayConfig struct {
	// KeyFile is the gateway's identity key file, created if missing.
	KeyFile string
	// Gateway configures the gateway itself.
	Gateway gateway.Config
	// HTTP is the TCP address of /metrics and /healthz; without a host it
	// is loopback's. Empty means none.
	HTTP string
	// HTTPMaxConns bounds the connections open to HTTP. Default
	// admin.DefaultMaxConns.
	HTTPMaxConns int
	// Limits bound what bridges and strangers can make the gateway hold;
	// zero fields mean the connector's defaults.
	Limits Limits
	// Access says which bridges the gateway serves (registrations,
	// lookups, punches, the relay); the zero value serves every node.
	Access Access
	// Fleet joins the gateway to the fleet of gateways sharing this NATS
	// (its URL, credentials and TLS files as a bridge's); an empty URL
	// means a gateway on its own. Its Listen is unused.
	Fleet NATSConfig
	// FleetPrefix is the fleet's subject prefix. Default
	// fleet.DefaultPrefix.
	FleetPrefix string
}

// GatewayModule provides the rendezvous and relay gateway.
func GatewayModule(cfg GatewayConfig) fx.Option {
	return fx.Module("gateway",
		fx.Provide(func(lc fx.Lifecycle, log *slog.Logger) (*gateway.Gateway, *membership.Policy, error) {
			id, err := identity.LoadOrCreate(cfg.KeyFile)
			if err != nil {
				return nil, nil, err
			}
			id, policy, err := secure(id, cfg.Access, nil, log)
			if err != nil {
				return nil, nil, err
			}
			gc := cfg.Gateway
			gc.Conn = cfg.Limits.Apply(gc.Conn)
			g, err := gateway.New(gc, id, log.With("component", "gateway"))
			if err != nil {
				return nil, nil, err
			}
			if cfg.Fleet.URL == "" {
				lc.Append(fx.Hook{
					OnStart: g.Start,
					OnStop:  func(context.Context) error { return g.Close() },
				})
				return g, policy, nil
			}
			var (
				nc *nats.Conn
				f  *fleet.Fleet
			)
			lc.Append(fx.Hook{
				OnStart: func(ctx context.Context) error {
					var err error
					if nc, err = ConnectExternal(ctx, cfg.Fleet, log.With("component", "fleet")); err != nil {
						return err
					}
					f = fleet.New(nc, fleet.Config{Prefix: cfg.FleetPrefix}, log.With("component", "fleet"))
					g.JoinFleet(f)
					if err := g.Start(ctx); err != nil {
						f.Close()
						nc.Close()
						return err
					}
					return nil
				},
				OnStop: func(context.Context) error {
					err := errors.Join(f.Close(), g.Close()) // withdraw from the fleet first
					nc.Close()
					return err
				},
			})
			return g, policy, nil
		}),
		fx.Provide(metrics.NewRegistry, func(lc fx.Lifecycle, reg *prometheus.Registry, g *gateway.Gateway, p *membership.Policy, log *slog.Logger) (*admin.Server, error) {
			m := metrics.NewGateway(g)
			m.WatchMembership(p)
			if err := m.Register(reg); err != nil {
				return nil, err
			}
			checks := []admin.Check{{Name: "quic", Fn: func() error {
				if len(g.Addrs()) == 0 {
					return errors.New("sockets not bound")
				}
				return nil
			}}}
			if cfg.Fleet.URL != "" {
				checks = append(checks, admin.Check{Name: "fleet", Fn: g.FleetErr})
			}
			return newAdmin(lc, reg, log, admin.Config{Addr: cfg.HTTP, MaxConns: cfg.HTTPMaxConns, Checks: checks})
		}),
		fx.Invoke(func(*admin.Server) {}),
	)
}
