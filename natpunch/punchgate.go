package natpunch

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
)

// Refusals of a punch a peer asked for.
var (
	ErrPunchRate     = errors.New("natpunch: too many hole punches for this peer")
	ErrPunchInFlight = errors.New("natpunch: a hole punch for this peer is running")
	ErrPunchBusy     = errors.New("natpunch: too many hole punches running")
)

// punchGate admits the hole punches peers ask for: each peer within its
// rate and with one punch at a time, and at most max at once.
type punchGate struct {
	rates *ratelimit.KeyLimiter[identity.NodeID]
	max   int

	mu       sync.Mutex // guards inFlight
	inFlight map[identity.NodeID]bool

	started, refused atomic.Uint64
}

func newPunchGate(cfg ClientConfig) *punchGate {
	perPeer := ratelimit.Rate{PerSecond: float64(cfg.PunchesPerMinute) / 60, Burst: cfg.PunchesPerMinute}
	return &punchGate{
		rates: ratelimit.NewKeyLimiter[identity.NodeID](perPeer, cfg.AllPunches.Limiter(), MaxRateKeys),
		max:   cfg.MaxPunches, inFlight: make(map[identity.NodeID]bool),
	}
}

// admit reserves a punch for peer, or says why not; release ends it.
func (p *punchGate) admit(peer identity.NodeID, now time.Time) (release func(), err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.inFlight[peer]:
		err = ErrPunchInFlight
	case len(p.inFlight) >= p.max:
		err = ErrPunchBusy
	case !p.rates.Allow(peer, now):
		err = ErrPunchRate
	}
	if err != nil {
		p.refused.Add(1)
		return nil, err
	}
	p.started.Add(1)
	p.inFlight[peer] = true
	return func() {
		p.mu.Lock()
		delete(p.inFlight, peer)
		p.mu.Unlock()
	}, nil
}

func (p *punchGate) running() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inFlight)
}

// punchCounters count what this bridge's punches sent.
type punchCounters struct {
	packets, bytes, addrsRefused atomic.Uint64
	notAccepted                  atomic.Uint64 // punches and relays asked by peers Accept refused
}

// PunchStats counts a bridge's hole punches, for metrics.
type PunchStats struct {
	// Started counts punches peers asked for that ran; Refused those
	// refused by a rate, the one-at-a-time rule or the total; Running is
	// how many run now.
	Started, Refused uint64
	Running          int
	// PacketsSent and BytesSent count punch packets of all punches, asked
	// for by peers or by this bridge.
	PacketsSent, BytesSent uint64
	// AddrsRefused counts addresses a peer claimed that punches left out:
	// not on one of this host's subnets.
	AddrsRefused uint64
	// NotAccepted counts punches and relay sessions asked for by peers
	// ClientConfig.Accept refused.
	NotAccepted uint64
}

// PunchStats returns the bridge's hole punch counters.
func (cl *Client) PunchStats() PunchStats {
	return PunchStats{
		Started: cl.punches.started.Load(), Refused: cl.punches.refused.Load(), Running: cl.punches.running(),
		PacketsSent: cl.sent.packets.Load(), BytesSent: cl.sent.bytes.Load(), AddrsRefused: cl.sent.addrsRefused.Load(),
		NotAccepted: cl.sent.notAccepted.Load(),
	}
}
