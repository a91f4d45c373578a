package natpunch

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
	"github.com/peerbridge/peerbridge/natpunch/portmap"
)

// ClientConfig configures a bridge's NAT traversal. Every zero field means
// the default named (see defaults.go); NewClient fills them in with
// populate and checks the result with validate.
type ClientConfig struct {
	// Gateways to register with; each needs node ID and endpoint.
	Gateways []connector.Target
	// DirectTimeout bounds the direct dial to a peer's known addresses.
	// Default 1.5 s.
	DirectTimeout time.Duration
	// PunchTimeout bounds one hole punch. Default 3 s.
	PunchTimeout time.Duration
	// RegisterEvery is how often registrations are refreshed. Default 30 s.
	RegisterEvery time.Duration
	// UpgradeMin and UpgradeMax bound the backoff between attempts to move a
	// relayed peer to a direct path. Defaults 1 s and 10 s.
	UpgradeMin, UpgradeMax time.Duration
	// Trace, if set, is told of every traversal step.
	Trace func(Event)
	// Accept, if set, says which peers this bridge punches toward or
	// agrees to relay with when they ask for it through a gateway; others
	// are refused (403). Nil accepts every peer: an open bridge, as a
	// NATS server without authorization is open.
	Accept func(identity.NodeID) bool

	// PunchPackets bounds the punch packets one hole punch sends, over all
	// its addresses. Default 200 (2.2 kB).
	PunchPackets int
	// PunchesPerMinute bounds the hole punches one peer can have this
	// bridge make, through a gateway, per minute and in a burst. Default 8.
	PunchesPerMinute int
	// AllPunches bounds the hole punches all peers together can have this
	// bridge start. Default DefaultAllPunches.
	AllPunches ratelimit.Rate
	// MaxPunches bounds the hole punches made for peers at once; each peer
	// has at most one. Default 4.
	MaxPunches int
	// RelayIdleTimeout ends a relay session that carried nothing for this
	// long, as the gateway does. It must be longer than the connector's
	// keep-alive, or quiet relayed connections would lose their session.
	// Default 2 minutes.
	RelayIdleTimeout time.Duration
	// MaxRelaySessionsPerPeer and MaxRelaySessions bound the relay sessions
	// this bridge asks for or agrees to, per peer and in all. Defaults 4
	// and 256.
	MaxRelaySessionsPerPeer, MaxRelaySessions int
	// RelayGrants bounds the relay sessions one peer can have this bridge
	// agree to; AllRelayGrants those of all peers together. Defaults one
	// every 15 s in bursts of MaxRelaySessionsPerPeer, and
	// DefaultAllRelayGrants.
	RelayGrants, AllRelayGrants ratelimit.Rate
	// TCPRelay is the first gateway's TCP relay address (host:port), used
	// when no gateway answers over UDP. Empty means the gateway's own
	// endpoint (TCP on the same port); wire.TCPOff switches it off.
	TCPRelay string
	// DialTCP opens the TCP relay's connections, to the gateway or to the
	// proxy. Nil means net.Dialer's.
	DialTCP DialFunc
	// Proxy picks the HTTP proxy the TCP relay tunnels through (CONNECT).
	// Nil means HTTPS_PROXY and NO_PROXY from the environment.
	Proxy ProxyFunc
	// UDPRetryMin and UDPRetryMax bound the backoff between UDP probes of
	// the gateway while on the TCP relay. Defaults 1 s and 4 s.
	UDPRetryMin, UDPRetryMax time.Duration
	// PortMap, if set, has the bridge ask its router for a mapping of its
	// UDP port (UPnP, NAT-PMP or PCP) in the background and register the
	// mapped address as a candidate; its Port is the connector's, set by
	// Start. Nil means no port mapping (tests, and --port-mapping=false).
	PortMap *portmap.Config
	// LocalSubnets returns the subnets this node is on: a peer's claimed
	// local addresses are dialled and punched only there (a LAN both
	// share). Nil means the host's interfaces' subnets, loopback excluded;
	// set it where the connector's socket lives in another network
	// namespace than the process.
	LocalSubnets func() []netip.Prefix
	// Resolve looks gateways' names up; every address a name resolves to
	// is used (at most MaxGatewayAddrsPerFamily of each family), at start
	// and at each registration round. Nil means net.DefaultResolver.
	Resolve ResolveFunc
}

func (c *ClientConfig) populate() {
	c.DirectTimeout = cmp.Or(c.DirectTimeout, DefaultDirectTimeout)
	c.PunchTimeout = cmp.Or(c.PunchTimeout, DefaultPunchTimeout)
	c.RegisterEvery = cmp.Or(c.RegisterEvery, DefaultRegisterEvery)
	c.UpgradeMin = cmp.Or(c.UpgradeMin, DefaultUpgradeMin)
	c.UpgradeMax = cmp.Or(c.UpgradeMax, DefaultUpgradeMax)
	c.RelayIdleTimeout = cmp.Or(c.RelayIdleTimeout, DefaultRelayIdleTimeout)
	c.UDPRetryMin = cmp.Or(c.UDPRetryMin, DefaultUDPRetryMin)
	c.UDPRetryMax = cmp.Or(c.UDPRetryMax, DefaultUDPRetryMax)
	c.PunchPackets = cmp.Or(c.PunchPackets, DefaultPunchPackets)
	c.PunchesPerMinute = cmp.Or(c.PunchesPerMinute, DefaultPunchesPerMinute)
	c.AllPunches = c.AllPunches.OrDefault(DefaultAllPunches)
	c.MaxPunches = cmp.Or(c.MaxPunches, DefaultMaxPunches)
	c.MaxRelaySessionsPerPeer = cmp.Or(c.MaxRelaySessionsPerPeer, DefaultRelaySessionsPerPeer)
	c.MaxRelaySessions = cmp.Or(c.MaxRelaySessions, DefaultRelaySessions)
	c.RelayGrants = c.RelayGrants.OrDefault(defaultRelayGrants(c.MaxRelaySessionsPerPeer))
	c.AllRelayGrants = c.AllRelayGrants.OrDefault(DefaultAllRelayGrants)
	if c.LocalSubnets == nil {
		c.LocalSubnets = ownSubnets
	}
	if c.Resolve == nil {
		c.Resolve = defaultResolve
	}
}

// ErrInvalidConfig is wrapped by every error validate returns.
var ErrInvalidConfig = errors.New("natpunch: invalid config")

// validate checks a populated ClientConfig for a connector whose QUIC
// keep-alive period is keepAlive (0: none).
func (c *ClientConfig) validate(keepAlive time.Duration) error {
	for _, n := range []int{c.PunchPackets, c.PunchesPerMinute, c.MaxPunches, c.MaxRelaySessions, c.MaxRelaySessionsPerPeer} {
		if n < 0 {
			return fmt.Errorf("%w: limits must not be negative", ErrInvalidConfig)
		}
	}
	for _, d := range []time.Duration{c.DirectTimeout, c.PunchTimeout, c.RegisterEvery, c.UpgradeMin, c.UpgradeMax, c.UDPRetryMin, c.UDPRetryMax} {
		if d < 0 {
			return fmt.Errorf("%w: timeouts must not be negative", ErrInvalidConfig)
		}
	}
	if c.UpgradeMin > c.UpgradeMax || c.UDPRetryMin > c.UDPRetryMax {
		return fmt.Errorf("%w: a backoff's minimum is above its maximum", ErrInvalidConfig)
	}
	for _, r := range []ratelimit.Rate{c.AllPunches, c.RelayGrants, c.AllRelayGrants} {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	if c.RelayIdleTimeout <= keepAlive {
		return fmt.Errorf("%w: relay idle timeout %v must be longer than the %v keep-alive", ErrInvalidConfig, c.RelayIdleTimeout, keepAlive)
	}
	for _, t := range c.Gateways {
		if t.NodeID == "" || t.Endpoint == "" {
			return fmt.Errorf("%w: gateway %q needs NODEID@host:port", ErrInvalidConfig, t)
		}
	}
	return nil
}
