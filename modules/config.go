package modules

import (
	"time"

	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
)

// Config is the daemon's configuration, filled from flags by cmd/peerbridge.
// A zero field means the default named in its comment.
type Config struct {
	// KeyFile is the identity key file, created if missing.
	KeyFile string
	// Listen is the QUIC UDP address. Default DefaultListen.
	Listen string
	// NATS says which NATS to use.
	NATS NATSConfig
	// Peers are static peers: node IDs with known endpoints.
	Peers []connector.Target
	// Serve maps inbound request types to local NATS subjects.
	Serve map[string]string
	// Prefix is the subject prefix. Default bridge.DefaultPrefix.
	Prefix string
	// QueueGroup is the NATS queue group bridges share. Default bridge.DefaultQueueGroup.
	QueueGroup string
	// Timeout is the default send and request timeout. Default bridge.DefaultTimeout.
	Timeout time.Duration
	// ReplyTimeout bounds requests and sends with a reply subject that set
	// no Peer-Timeout. Default bridge.DefaultReplyTimeout.
	ReplyTimeout time.Duration
	// Grace is how long in-flight requests may take at shutdown. Default DefaultGrace.
	Grace time.Duration
	// IdleTimeout closes idle peer connections. Default connector.DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxPayload is the largest payload forwarded. Default bridge.DefaultMaxPayload.
	MaxPayload int
	// MaxTargets is the most distinct peers one message may name. Default
	// bridge.DefaultMaxTargets.
	MaxTargets int
	// Gateways are the rendezvous and relay servers to register with.
	Gateways []connector.Target
	// TCPRelay is the first gateway's TCP relay address, used when UDP to
	// the gateways gets no answer: empty means the gateway's endpoint,
	// wire.TCPOff none (natpunch.ClientConfig.TCPRelay).
	TCPRelay string
	// PortMapping has the bridge, when it has gateways, ask its router for
	// a mapping of its UDP port (UPnP, NAT-PMP or PCP) in the background
	// and register the mapped address as a candidate. False means none;
	// 'peerbridge run' sets it unless --port-mapping=false.
	PortMapping bool
	// HTTP is the TCP address of /metrics and /healthz; without a host it
	// is loopback's. Empty means none.
	HTTP string
	// HTTPMaxConns bounds the connections open to HTTP. Default
	// admin.DefaultMaxConns.
	HTTPMaxConns int
	// Version is the version the micro service announces. Empty means
	// "0.0.0".
	Version string
	// Limits bound what peers can make the daemon hold. Zero fields mean
	// the connector's defaults (see connector.Config).
	Limits Limits
	// NATLimits bound the hole punches and relay sessions peers can have
	// the bridge make; zero fields mean natpunch's defaults.
	NATLimits NATLimits
	// Access says who may connect; the zero value is open to every node.
	Access Access
}

// Limits are the connector's limits on peers, as flags set them.
type Limits struct {
	// MaxConns is connector.Config.MaxConns. Default 1,000.
	MaxConns int
	// MaxConnsPerIP is connector.Config.MaxConnsPerIP. Default 32.
	MaxConnsPerIP int
	// MaxConnsPerPeer is connector.Config.MaxConnsPerPeer. Default 4.
	MaxConnsPerPeer int
	// MaxStreams is connector.Config.MaxStreams. Default 256.
	MaxStreams int
	// MaxInboundRequests is connector.Config.MaxInboundRequests. Default 1,024.
	MaxInboundRequests int
	// MaxInboundRequestsPerPeer is connector.Config.MaxInboundRequestsPerPeer. Default 128.
	MaxInboundRequestsPerPeer int
	// MaxInboundRequestBytes is connector.Config.MaxInboundRequestBytes.
	// Default 128 MiB, or MaxPayload if larger.
	MaxInboundRequestBytes int
	// FrameBudget is connector.Config.FrameBudget. Default 64 MiB, or
	// ConnFrameBudget if larger.
	FrameBudget int
	// ConnFrameBudget is connector.Config.ConnFrameBudget. Default 16 MiB, or
	// one frame of MaxPayload if larger.
	ConnFrameBudget int
	// FrameTimeout is connector.Config.FrameTimeout. Default 20 s.
	FrameTimeout time.Duration
	// MaxQueue, MaxQueues, MaxQueuedBytes and MaxQueuedBytesPerPeer are
	// connector.Config's send queue bounds. Defaults 1,048,576 messages
	// per peer, 4,096 peers, 512 MiB, 256 MiB per peer.
	MaxQueue, MaxQueues, MaxQueuedBytes, MaxQueuedBytesPerPeer int
}

// Apply returns c with the limits that are set.
func (l Limits) Apply(c connector.Config) connector.Config {
	set := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	set(&c.MaxConns, l.MaxConns)
	set(&c.MaxConnsPerIP, l.MaxConnsPerIP)
	set(&c.MaxConnsPerPeer, l.MaxConnsPerPeer)
	set(&c.MaxStreams, l.MaxStreams)
	set(&c.MaxInboundRequests, l.MaxInboundRequests)
	set(&c.MaxInboundRequestsPerPeer, l.MaxInboundRequestsPerPeer)
	set(&c.MaxInboundRequestBytes, l.MaxInboundRequestBytes)
	set(&c.FrameBudget, l.FrameBudget)
	set(&c.ConnFrameBudget, l.ConnFrameBudget)
	set(&c.MaxQueue, l.MaxQueue)
	set(&c.MaxQueues, l.MaxQueues)
	set(&c.MaxQueuedBytes, l.MaxQueuedBytes)
	set(&c.MaxQueuedBytesPerPeer, l.MaxQueuedBytesPerPeer)
	if l.FrameTimeout != 0 {
		c.FrameTimeout = l.FrameTimeout
	}
	return c
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
	// Listen is the embedded server's client address. Default DefaultNATSListen.
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
		c.Listen = DefaultListen
	}
	if c.NATS.URL == "" && c.NATS.Listen == "" {
		c.NATS.Listen = DefaultNATSListen
	}
	if c.Prefix == "" {
		c.Prefix = bridge.DefaultPrefix
	}
	if c.QueueGroup == "" {
		c.QueueGroup = bridge.DefaultQueueGroup
	}
	if c.Timeout == 0 {
		c.Timeout = bridge.DefaultTimeout
	}
	if c.Grace == 0 {
		c.Grace = DefaultGrace
	}
}
