package modules

import (
	"log/slog"

	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// IdentityModule loads (or creates) the node's key.
var IdentityModule = fx.Module("identity",
	fx.Provide(func(cfg Config, log *slog.Logger) (*identity.Identity, error) {
		id, err := identity.LoadOrCreate(cfg.KeyFile)
		if err == nil {
			log.Info("identity loaded", "node", id.NodeID().String(), "key", cfg.KeyFile)
		}
		return id, err
	}),
)
