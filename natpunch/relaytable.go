package natpunch

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// relayEnd is one side of a relay session.
type relayEnd struct {
	id   identity.NodeID
	addr netip.AddrPort // where its packets come from and go to
	via  int            // the gateway address it talks to
}

// relaySession forwards packets between two ends.
type relaySession struct {
	a, b    relayEnd
	started time.Time
	last    time.Time // when a packet was last forwarded
	bytes   int64     // forwarded so far
	window  time.Time // start of the current rate window
	inWin   int64     // bytes in the current rate window
}

// relayTable holds the gateway's relay sessions.
type relayTable struct {
	limits RelayLimits

	mu       sync.Mutex // guards sessions and the sessions' counters
	sessions map[sessionID]*relaySession

	forwarded, dropped atomic.Uint64
	bytes              atomic.Uint64 // of the packets forwarded
}

func newRelayTable(l RelayLimits) *relayTable {
	return &relayTable{limits: l, sessions: make(map[sessionID]*relaySession)}
}

func (t *relayTable) open(s sessionID, a, b record, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sessions[s] = &relaySession{
		a: relayEnd{id: a.id, addr: a.observed, via: a.via}, b: relayEnd{id: b.id, addr: b.observed, via: b.via},
		started: now, last: now, window: now,
	}
}

// expire closes the sessions that forwarded nothing for idle, and reports
// how many it closed. Peers that stop relaying (they moved to a direct
// path, or went away) never say so; their sessions end here.
func (t *relayTable) expire(now time.Time, idle time.Duration) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for s, sess := range t.sessions {
		if now.Sub(sess.last) > idle {
			delete(t.sessions, s)
			n++
		}
	}
	return n
}

// rebind moves every session end of node id to the address and gateway
// address it registered from last. A NAT that forgot its mappings gives the
// node a new public address; its relayed connections carry on from there
// once it has registered again. The address comes from the node's
// authenticated connection, so a session cannot be moved by a stranger.
func (t *relayTable) rebind(id identity.NodeID, addr netip.AddrPort, via int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, sess := range t.sessions {
		for _, end := range []*relayEnd{&sess.a, &sess.b} {
			if end.id == id {
				end.addr, end.via = addr, via
			}
		}
	}
}

func (t *relayTable) close(s sessionID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.sessions, s)
}

// route returns where a packet of n bytes from from on session s goes, or
// false if it must be dropped: unknown session, a sender that is neither
// end, or a limit reached.
func (t *relayTable) route(s sessionID, from netip.AddrPort, n int, now time.Time) (relayEnd, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sess := t.sessions[s]
	if sess == nil {
		return relayEnd{}, false
	}
	var to relayEnd
	switch from {
	case sess.a.addr:
		to = sess.b
	case sess.b.addr:
		to = sess.a
	default:
		return relayEnd{}, false
	}
	if !t.admitLocked(sess, int64(n), now) {
		return relayEnd{}, false
	}
	sess.last = now
	return to, true
}

func (t *relayTable) admitLocked(sess *relaySession, n int64, now time.Time) bool {
	l := t.limits
	if l.MaxDuration > 0 && now.Sub(sess.started) > l.MaxDuration {
		return false
	}
	if l.MaxBytes > 0 && sess.bytes+n > l.MaxBytes {
		return false
	}
	if l.MaxRate > 0 {
		if now.Sub(sess.window) >= time.Second {
			sess.window, sess.inWin = now, 0
		}
		if sess.inWin+n > l.MaxRate {
			return false
		}
		sess.inWin += n
	}
	sess.bytes += n
	return true
}

func (t *relayTable) stats() (int, uint64, uint64) {
	t.mu.Lock()
	n := len(t.sessions)
	t.mu.Unlock()
	return n, t.forwarded.Load(), t.dropped.Load()
}

// forward relays one packet, unchanged, to the session's other end, from
// the gateway address that end talks to so its NAT lets it in.
func (g *Gateway) forward(from netip.AddrPort, s sessionID, inner []byte) {
	to, ok := g.relay.route(s, from, len(inner), time.Now())
	if !ok {
		g.relay.dropped.Add(1)
		return
	}
	pkt := appendRelay(make([]byte, 0, relayOverhead+len(inner)), s, inner)
	if _, err := g.conns[to.via].Transport().WriteTo(pkt, net.UDPAddrFromAddrPort(to.addr)); err != nil {
		g.relay.dropped.Add(1)
		return
	}
	g.relay.forwarded.Add(1)
	g.relay.bytes.Add(uint64(len(inner)))
}
