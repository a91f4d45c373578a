package natpunch

import "time"

// Defaults for the zero values of GatewayConfig that commands show as their
// flags' defaults.
const (
	// DefaultGatewayListen is the gateway's UDP address.
	DefaultGatewayListen = "0.0.0.0:9444"
	// DefaultRegistrationTTL is GatewayConfig.RegistrationTTL's default.
	DefaultRegistrationTTL = 90 * time.Second
)
