package modules

import (
	"log/slog"

	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/membership"
)

// IdentityModule loads (or creates) the node's key, and provides it with
// its credential and the policy of who may connect (Config.Access), which
// every TLS handshake of the node applies.
var IdentityModule = fx.Module("identity",
	fx.Provide(func(cfg Config, log *slog.Logger) (*identity.Identity, *membership.Policy, error) {
		id, err := identity.LoadOrCreate(cfg.KeyFile)
		if err != nil {
			return nil, nil, err
		}
		log.Info("identity loaded", "node", id.NodeID().String(), "key", cfg.KeyFile)
		return secure(id, cfg.Access, append(append([]connector.Target(nil), cfg.Peers...), cfg.Gateways...), log)
	}),
)
