package gateway

import (
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// Every default of the gateway, in one place. Commands show them as their
// flags' defaults; a zero field of a Config means the default named here.
const (
	// DefaultListen is the gateway's UDP address.
	DefaultListen = "0.0.0.0:9444"
	// DefaultRegistrationTTL is how long a registration lasts unrefreshed.
	DefaultRegistrationTTL = 90 * time.Second
	// DefaultRelayIdleTimeout ends a relay session idle this long; the
	// bridges end theirs after the same time.
	DefaultRelayIdleTimeout = wire.RelayIdleTimeout
	// KeepAlive is how often the peers' QUIC connections send keep-alives
	// by default. Timeouts that end idle state must be longer, or live but
	// quiet peers would lose it.
	KeepAlive = connector.DefaultKeepAlive

	// DefaultMaxConns and DefaultMaxConnsPerIP bound the QUIC connections
	// of each listen address (connector.Config.MaxConns, MaxConnsPerIP):
	// a gateway serves many more bridges than a bridge has peers.
	DefaultMaxConns      = 2000
	DefaultMaxConnsPerIP = 256

	DefaultMaxRegistrations = 65536
	DefaultMaxLocalAddrs    = 8
	DefaultMaxRecordBytes   = 1024
	DefaultMaxKeys          = 65536
	// DefaultMaxGatewaysPerKey lets a bridge register at three gateways
	// of a fleet, as Tailscale runs at least three DERP servers per
	// region: failover with one gateway down and one being restarted.
	DefaultMaxGatewaysPerKey = 3

	DefaultRelayMaxRate           = 8 << 20
	DefaultRelaySessionsPerClient = 16
	DefaultRelaySessions          = 16384

	DefaultTCPMaxConns      = 4096
	DefaultTCPMaxConnsPerIP = 16
)

// Default request rates; see Limits.
var (
	DefaultRegistrations = ratelimit.Rate{PerSecond: 1, Burst: 8}
	DefaultLookups       = ratelimit.Rate{PerSecond: 20, Burst: 100}
	DefaultPunches       = ratelimit.Rate{PerSecond: 2, Burst: 10}
	DefaultRelays        = ratelimit.Rate{PerSecond: 1, Burst: 10}
	// DefaultNotifies is well above what a few keys may each ask
	// (DefaultPairNotifies), so keys that keep within their share cannot
	// together take a target's whole budget; the target's own punch and
	// relay bounds stand behind it.
	DefaultNotifies = ratelimit.Rate{PerSecond: 10, Burst: 50}
	// DefaultPairNotifies is one key's share toward one node: a relayed
	// pair's upgrade attempt every 10 s, a relay ask and a first contact.
	DefaultPairNotifies = ratelimit.Rate{PerSecond: 0.2, Burst: 4}
	DefaultRequests     = ratelimit.Rate{PerSecond: 5000, Burst: 10000}
)

// Default relay packet rates; see RelayLimits.
var (
	// DefaultRelayClientPackets is 8 MiB/s of relayed QUIC packets (1,291
	// bytes each), the same as DefaultRelayMaxRate, so one busy session
	// gets all of it (at 4,000 a relayed pair reached 0.37-0.49 of a
	// direct path's throughput, at 6,500 0.52-0.80).
	DefaultRelayClientPackets  = ratelimit.Rate{PerSecond: 6500, Burst: 13000}
	DefaultRelayReceivePackets = ratelimit.Rate{PerSecond: 8000, Burst: 16000}
	DefaultRelayPackets        = ratelimit.Rate{PerSecond: 100000, Burst: 200000}
)
