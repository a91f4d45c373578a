// Package metrics exposes peerbridge's state as Prometheus metrics: a
// collector for a bridge daemon (built from the connector's snapshots and
// events and the bridge's outcomes) and one for a gateway. Nothing here
// registers with Prometheus's default registry: the caller makes one
// registry with NewRegistry and registers the collectors it wants.
//
// It lives under modules because it is one of the daemon's operations
// parts (metrics, health and admin HTTP, logging, the status service):
// it reads the components, and only modules and cmd wire it. The component
// packages (bridge, connector, natpunch, codec) never import it, so they
// stay free of Prometheus and of the operators' HTTP endpoints. Unlike
// modules itself it does not import fx.
package metrics
