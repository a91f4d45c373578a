package modules

import "time"

// Defaults of the daemon's and the gateway's own settings; the components'
// defaults live in their packages (bridge.DefaultPrefix, ...).
const (
	// DefaultListen is the daemon's QUIC UDP address.
	DefaultListen = "0.0.0.0:9443"
	// DefaultNATSListen is the embedded nats-server's client address.
	DefaultNATSListen = "127.0.0.1:4222"
	// DefaultKeyFile is the daemon's identity key file.
	DefaultKeyFile = "peerbridge.key"
	// DefaultGrace is how long in-flight requests may finish at shutdown.
	DefaultGrace = 10 * time.Second
	// DefaultGatewayKeyFile is the gateway's identity key file.
	DefaultGatewayKeyFile = "gateway.key"
)
