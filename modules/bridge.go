package modules

import (
	"context"
	"log/slog"

	"go.uber.org/fx"

	"github.com/nats-io/nats.go"
	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/natpunch"
)

// BridgeModule provides the bridge between NATS and the connector: it takes
// inbound peer messages from start and NATS subscriptions until stop, when it
// drains in-flight requests within Config.Grace.
var BridgeModule = fx.Module("bridge",
	fx.Provide(newBridge),
)

func newBridge(lc fx.Lifecycle, cfg Config, nc *nats.Conn, c *connector.Connector, traversal *natpunch.Client, log *slog.Logger) (*bridge.Bridge, error) {
	b, err := bridge.New(bridge.Config{
		Prefix:         cfg.Prefix,
		QueueGroup:     cfg.QueueGroup,
		DefaultTimeout: cfg.Timeout,
		MaxPayload:     cfg.MaxPayload,
		Serve:          cfg.Serve,
	}, nc, c, log.With("component", "bridge"))
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StartStopHook(
		func(ctx context.Context) error {
			c.SetHandler(traversal.Handler(b))
			return b.Start(ctx)
		},
		func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, cfg.Grace)
			defer cancel()
			return b.Stop(ctx)
		},
	))
	return b, nil
}
