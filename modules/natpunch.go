package modules

import (
	"context"
	"log/slog"

	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch"
)

// TraversalModule provides the bridge's NAT traversal: registration with
// Config.Gateways, NAT probing, hole punching and relaying for targets that
// name only a node ID. With no gateways it only routes nothing.
var TraversalModule = fx.Module("traversal",
	fx.Provide(newTraversal),
)

func newTraversal(lc fx.Lifecycle, cfg Config, c *connector.Connector, log *slog.Logger) (*natpunch.Client, error) {
	l := cfg.NATLimits
	cl, err := natpunch.NewClient(c, natpunch.ClientConfig{
		Gateways:     cfg.Gateways,
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
	KeyFile string
	Gateway natpunch.GatewayConfig
}

// GatewayModule provides the rendezvous and relay gateway.
func GatewayModule(cfg GatewayConfig) fx.Option {
	return fx.Module("gateway",
		fx.Provide(func(lc fx.Lifecycle, log *slog.Logger) (*natpunch.Gateway, error) {
			id, err := identity.LoadOrCreate(cfg.KeyFile)
			if err != nil {
				return nil, err
			}
			g, err := natpunch.NewGateway(cfg.Gateway, id, log.With("component", "gateway"))
			if err != nil {
				return nil, err
			}
			lc.Append(fx.Hook{
				OnStart: g.Start,
				OnStop:  func(context.Context) error { return g.Close() },
			})
			return g, nil
		}),
	)
}
