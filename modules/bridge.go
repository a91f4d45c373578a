package modules

import (
	"context"
	"log/slog"

	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/membership"
	"github.com/peerbridge/peerbridge/modules/metrics"
	"github.com/peerbridge/peerbridge/natpunch"
)

// BridgeModule runs the bridge between NATS and the connector: on start it
// takes inbound peer messages and subscribes to NATS; on stop it drains
// in-flight requests within Config.Grace. On the embedded NATS its hot path
// speaks the NATS protocol itself, on connections of its own (NATS.Dial);
// on an external NATS it runs on nats.go. The bridge is made on start,
// because the NATS connection exists only from then.
var BridgeModule = fx.Module("bridge",
	fx.Invoke(registerBridge),
)

func registerBridge(lc fx.Lifecycle, cfg Config, n *NATS, c *connector.Connector, traversal *natpunch.Client, p *membership.Policy, m *metrics.Bridge, log *slog.Logger) error {
	bcfg := bridge.Config{
		Prefix:         cfg.Prefix,
		QueueGroup:     cfg.QueueGroup,
		DefaultTimeout: cfg.Timeout,
		ReplyTimeout:   cfg.ReplyTimeout,
		MaxPayload:     cfg.MaxPayload,
		MaxTargets:     cfg.MaxTargets,
		Serve:          cfg.Serve,
		Access:         p,
	}
	if err := bcfg.Validate(); err != nil {
		return err
	}
	var b *bridge.Bridge
	lc.Append(fx.StartStopHook(
		func(ctx context.Context) error {
			var err error
			bcfg.Dial = n.Dial // set on start, with the embedded server
			if b, err = bridge.New(bcfg, n.Conn, c, log.With("component", "bridge")); err != nil {
				return err
			}
			n.watchHotPath(b.NATSErr)
			m.WatchBridge(b)
			b.SetObserver(observers{m, failureLog{log.With("component", "bridge")}})
			c.SetHandler(traversal.Handler(b))
			return b.Start(ctx)
		},
		func(ctx context.Context) error {
			if b == nil {
				return nil
			}
			ctx, cancel := context.WithTimeout(ctx, cfg.Grace)
			defer cancel()
			return b.Stop(ctx)
		},
	))
	return nil
}
