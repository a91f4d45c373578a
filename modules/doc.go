// Package modules wires peerbridge's components together with go.uber.org/fx:
// one fx.Module per component (config, identity, NATS, connector, bridge,
// gateway). Constructors stay plain Go in their own packages; the modules
// only provide them and attach lifecycle hooks that start and stop them.
package modules
