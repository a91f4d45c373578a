package modules

import (
	"log/slog"

	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/membership"
)

// ConnectorModule provides the peer connector, listening on Config.Listen
// from start to stop.
var ConnectorModule = fx.Module("connector",
	fx.Provide(newConnector),
)

func newConnector(lc fx.Lifecycle, cfg Config, id *identity.Identity, p *membership.Policy, log *slog.Logger) (*connector.Connector, error) {
	c, err := connector.New(cfg.Limits.Apply(connector.Config{
		ListenAddr:     cfg.Listen,
		MaxPayload:     cfg.MaxPayload,
		DefaultTimeout: cfg.Timeout,
		IdleTimeout:    cfg.IdleTimeout,
		MayDial:        mayDial(p),
	}), id, log.With("component", "connector"))
	if err != nil {
		return nil, err
	}
	for _, p := range cfg.Peers {
		c.AddAddress(p.NodeID, p.Endpoint)
	}
	lc.Append(fx.Hook{
		OnStart: c.Start,
		OnStop:  c.Shutdown,
	})
	return c, nil
}
