package natpunch

import (
	"time"

	"github.com/peerbridge/peerbridge/connector/ratelimit"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// Every default of the bridge's NAT traversal, in one place. Commands show
// them as their flags' defaults; a zero field of a ClientConfig means the
// default named here.
const (
	DefaultDirectTimeout = 1500 * time.Millisecond
	DefaultPunchTimeout  = 3 * time.Second
	DefaultRegisterEvery = 30 * time.Second
	// DefaultUpgradeMin and DefaultUpgradeMax bound the backoff of a
	// relayed peer's upgrade attempts: a path that opens is taken within
	// about 15 s however long the pair was relayed (iroh holds its pairs
	// to the same), at the cost of a lookup and a punch every 10 s per
	// relayed peer.
	DefaultUpgradeMin = time.Second
	DefaultUpgradeMax = 10 * time.Second

	DefaultPunchPackets = 200
	// DefaultPunchesPerMinute leaves room for a relayed peer's upgrade
	// attempts, one every UpgradeMax (10 s) at most, and a first contact.
	DefaultPunchesPerMinute = 8
	// DefaultMaxPunches leaves room for a peer's punch while keys that
	// keep within their share at the gateway (one punch per 5 s each, and
	// each punch held here for up to about 3.3 s) ask for theirs.
	DefaultMaxPunches           = 16
	DefaultRelaySessionsPerPeer = 4
	DefaultRelaySessions        = 256
	DefaultRelayIdleTimeout     = wire.RelayIdleTimeout

	// DefaultUDPRetryMin and DefaultUDPRetryMax bound the backoff of the
	// UDP probes of the gateway while on the TCP relay.
	DefaultUDPRetryMin = time.Second
	DefaultUDPRetryMax = 4 * time.Second

	// MaxRateKeys bounds the rows of the per-peer rate tables (punches and
	// relay sessions peers ask for).
	MaxRateKeys = 4096
)

// Default rates of what peers may ask of a bridge; see ClientConfig.
var (
	// DefaultAllPunches: all peers together can have a bridge start four
	// punches a second, in bursts of 16: above what a dozen keys each
	// within their share at the gateway ask, so they cannot take a
	// legitimate peer's punch.
	DefaultAllPunches = ratelimit.Rate{PerSecond: 4, Burst: 16}
	// DefaultAllRelayGrants: all peers together can have a bridge agree
	// to four relay sessions a second, in bursts of 64. A peer holds one
	// session it asked for at a time (a new ask replaces it), so the rate
	// bounds churn, not what is held; it stays above what a few keys each
	// within their share at the gateway ask.
	DefaultAllRelayGrants = ratelimit.Rate{PerSecond: 4, Burst: 64}
)

// defaultRelayGrants is a peer's default relay session rate: one every
// 15 s on average, in bursts of its session bound.
func defaultRelayGrants(perPeer int) ratelimit.Rate {
	return ratelimit.Rate{PerSecond: 1.0 / 15, Burst: perPeer}
}
