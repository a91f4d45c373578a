// Package modules wires peerbridge's components together with go.uber.org/fx:
// one fx.Module per component (config, identity, NATS, connector, bridge,
// gateway). Constructors stay plain Go in their own packages; the modules
// only provide them and attach lifecycle hooks that start and stop them.
//
// Beside the fx wiring live the daemon's operations parts, which only
// modules and cmd use and which do not import fx themselves:
// modules/metrics (Prometheus collectors), modules/admin (the /metrics and
// /healthz HTTP server), modules/logging (slog handlers) and
// modules/status (the NATS micro status service). The component packages
// (bridge, connector, natpunch, codec) never import them.
package modules
