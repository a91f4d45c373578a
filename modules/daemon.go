package modules

import "go.uber.org/fx"

// Daemon is the whole bridge daemon as 'peerbridge run' composes it: config,
// identity, NATS, connector, NAT traversal, metrics, health and status, and bridge. The caller supplies a
// *slog.Logger.
func Daemon(cfg Config) fx.Option {
	return fx.Options(
		ConfigModule(cfg),
		IdentityModule,
		NATSModule,
		ConnectorModule,
		TraversalModule,
		ObserveModule,
		BridgeModule,
	)
}
