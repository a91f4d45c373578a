package modules

import (
	"time"

	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/connector"
)

// Config is the daemon's configuration, filled from flags by cmd/peerbridge.
// A zero field means the default named in its comment.
type Config struct {
	// KeyFile is the identity key file, created if missing.
	KeyFile string
	// Listen is the QUIC UDP address. Default "0.0.0.0:9443".
	Listen string
	// NATS says which NATS to use.
	NATS NATSConfig
	// Peers are static peers: node IDs with known endpoints.
	Peers []connector.Target
	// Serve maps inbound request types to local NATS subjects.
	Serve map[string]string
	// Prefix is the subject prefix. Default "peer".
	Prefix string
	// QueueGroup is the NATS queue group bridges share. Default "peerbridge".
	QueueGroup string
	// Timeout is the default send and request timeout. Default 10 s.
	Timeout time.Duration
	// Grace is how long in-flight requests may take at shutdown. Default 10 s.
	Grace time.Duration
	// IdleTimeout closes idle peer connections. Default 2 minutes.
	IdleTimeout time.Duration
	// MaxPayload is the largest payload forwarded. Default 1 MiB.
	MaxPayload int
	// Gateways are the rendezvous and relay servers to register with.
	Gateways []connector.Target
	// NATLimits bound the hole punches and relay sessions peers can have
	// the bridge make; zero fields mean natpunch's defaults.
	NATLimits NATLimits
}

// NATLimits bound what peers can have the bridge's NAT traversal do; see
// natpunch.ClientConfig, whose fields of the same names they set.
type NATLimits struct {
	PunchPackets, PunchesPerMinute, MaxPunches int
	RelayIdleTimeout                           time.Duration
	MaxRelaySessionsPerPeer, MaxRelaySessions  int
}

// NATSConfig says which NATS server the bridge uses.
type NATSConfig struct {
	// URL of an external NATS. Empty means an embedded server.
	URL string
	// Listen is the embedded server's client address. Default "127.0.0.1:4222".
	Listen string
	// CredsFile, CAFile, CertFile and KeyFile authenticate to an external NATS.
	CredsFile, CAFile, CertFile, KeyFile string
}

// ConfigModule supplies the daemon configuration.
func ConfigModule(cfg Config) fx.Option {
	cfg.populate()
	return fx.Module("config", fx.Supply(cfg))
}

func (c *Config) populate() {
	if c.Listen == "" {
		c.Listen = "0.0.0.0:9443"
	}
	if c.NATS.URL == "" && c.NATS.Listen == "" {
		c.NATS.Listen = "127.0.0.1:4222"
	}
	if c.Prefix == "" {
		c.Prefix = "peer"
	}
	if c.QueueGroup == "" {
		c.QueueGroup = "peerbridge"
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Grace == 0 {
		c.Grace = 10 * time.Second
	}
}
