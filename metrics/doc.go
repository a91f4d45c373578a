// Package metrics exposes peerbridge's state as Prometheus metrics: a
// collector for a bridge daemon (built from the connector's snapshots and
// events and the bridge's outcomes) and one for a gateway. Nothing here
// registers with Prometheus's default registry: the caller makes one
// registry with NewRegistry and registers the collectors it wants.
package metrics
