package gateway

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
	"github.com/peerbridge/peerbridge/natpunch/wire"
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
	last    time.Time     // when a packet was last forwarded
	bytes   int64         // forwarded so far
	rate    *rate.Limiter // bytes per second, both ways; nil if unlimited
}

// relayClient is what the relay table keeps per node: its sessions and
// its packet budgets, shared by all of them.
type relayClient struct {
	sessions int
	packets  *rate.Limiter // packets it sends
	received *rate.Limiter // packets sent to it
}

// errRelayFull refuses a session past the per-client or total bound.
var errRelayFull = errors.New("gateway: too many relay sessions")

// relayTable holds the gateway's relay sessions.
type relayTable struct {
	limits RelayLimits
	total  *rate.Limiter // packets relayed in all; has its own lock

	mu       sync.Mutex // guards sessions, clients and the sessions' counters
	sessions map[wire.SessionID]*relaySession
	clients  map[identity.NodeID]*relayClient
	byPair   map[pair]wire.SessionID // the session each asker (a) opened with each node (b)

	forwarded, dropped           atomic.Uint64
	bytes                        atomic.Uint64 // of the packets forwarded
	droppedUnknown, droppedLimit atomic.Uint64
	refused                      atomic.Uint64 // sessions refused
	replaced                     atomic.Uint64 // sessions closed by a new ask of the same pair
}

func newRelayTable(l RelayLimits) *relayTable {
	l.populate()
	return &relayTable{
		limits: l, total: l.Packets.Limiter(),
		sessions: make(map[wire.SessionID]*relaySession), clients: make(map[identity.NodeID]*relayClient),
		byPair: make(map[pair]wire.SessionID),
	}
}

// open adds session s that a asked for with b, within the per-client and
// total bounds. A session a asked for with b before is closed first: one
// is all a pair needs in each direction, so one key holds at most one of
// b's session slots by asking, however often it asks.
func (t *relayTable) open(s wire.SessionID, a, b record, now time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.byPair[pair{a.ID, b.ID}]; ok {
		t.deleteLocked(old)
		t.replaced.Add(1)
	}
	if len(t.sessions) >= t.limits.MaxSessions || t.clientFullLocked(a.ID) || t.clientFullLocked(b.ID) {
		t.refused.Add(1)
		return errRelayFull
	}
	t.sessions[s] = &relaySession{
		a: relayEnd{id: a.ID, addr: a.Observed, via: a.via}, b: relayEnd{id: b.ID, addr: b.Observed, via: b.via},
		started: now, last: now, rate: t.sessionRate(),
	}
	t.byPair[pair{a.ID, b.ID}] = s
	t.joinLocked(a.ID)
	t.joinLocked(b.ID)
	return nil
}

func (t *relayTable) clientFullLocked(id identity.NodeID) bool {
	c := t.clients[id]
	return c != nil && c.sessions >= t.limits.MaxSessionsPerClient
}

func (t *relayTable) joinLocked(id identity.NodeID) {
	c := t.clients[id]
	if c == nil {
		l := t.limits
		c = &relayClient{
			packets:  l.ClientPackets.Limiter(),
			received: l.ReceivePackets.Limiter(),
		}
		t.clients[id] = c
	}
	c.sessions++
}

func (t *relayTable) leaveLocked(id identity.NodeID) {
	if c := t.clients[id]; c != nil {
		if c.sessions--; c.sessions <= 0 {
			delete(t.clients, id)
		}
	}
}

// deleteLocked removes session s.
func (t *relayTable) deleteLocked(s wire.SessionID) {
	if sess := t.sessions[s]; sess != nil {
		delete(t.sessions, s)
		if k := (pair{sess.a.id, sess.b.id}); t.byPair[k] == s {
			delete(t.byPair, k)
		}
		t.leaveLocked(sess.a.id)
		t.leaveLocked(sess.b.id)
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
			t.deleteLocked(s)
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

func (t *relayTable) close(s wire.SessionID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.deleteLocked(s)
}

// route returns where a packet of n bytes from from on session s goes, or
// false if it must be dropped: unknown session, a sender that is neither
// end, or a limit reached. Drops are counted by reason.
func (t *relayTable) route(s wire.SessionID, from netip.AddrPort, n int, now time.Time) (relayEnd, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sess := t.sessions[s]
	if sess == nil {
		t.droppedUnknown.Add(1)
		return relayEnd{}, false
	}
	var sender, to relayEnd
	switch from {
	case sess.a.addr:
		sender, to = sess.a, sess.b
	case sess.b.addr:
		sender, to = sess.b, sess.a
	default:
		t.droppedUnknown.Add(1)
		return relayEnd{}, false
	}
	if !t.admitLocked(sess, sender.id, to.id, int64(n), now) {
		t.droppedLimit.Add(1)
		return relayEnd{}, false
	}
	sess.last = now
	return to, true
}

// sessionRate returns a session's byte bucket: MaxRate a second, in
// bursts of a second's worth (at least 64 KiB), or nil if unlimited.
func (t *relayTable) sessionRate() *rate.Limiter {
	if t.limits.MaxRate <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(t.limits.MaxRate), int(max(t.limits.MaxRate, 64<<10)))
}

// admitLocked charges a packet of n bytes from sender to receiver to its
// session's budgets, the sender's and the receiver's packet rates and the
// total packet rate.
func (t *relayTable) admitLocked(sess *relaySession, sender, receiver identity.NodeID, n int64, now time.Time) bool {
	l := t.limits
	if l.MaxDuration > 0 && now.Sub(sess.started) > l.MaxDuration {
		return false
	}
	if l.MaxBytes > 0 && sess.bytes+n > l.MaxBytes {
		return false
	}
	from, to := t.clients[sender], t.clients[receiver]
	if from == nil || to == nil {
		return false
	}
	// All budgets or none: a packet one of them refuses costs the others
	// nothing.
	if !ratelimit.AllowAll(now, ratelimit.Take{L: from.packets, N: 1}, ratelimit.Take{L: to.received, N: 1}, ratelimit.Take{L: t.total, N: 1}, ratelimit.Take{L: sess.rate, N: int(n)}) {
		return false
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

// forward relays relay packet pkt of session s, unchanged, to the
// session's other end, from the gateway address that end talks to so its
// NAT lets it in.
func (g *Gateway) forward(from netip.AddrPort, s wire.SessionID, pkt []byte) {
	inner := pkt[wire.RelayOverhead:]
	to, ok := g.relay.route(s, from, len(inner), time.Now())
	if !ok { // counted by reason in route
		g.relay.dropped.Add(1)
		return
	}
	if _, err := g.conns[to.via].Transport().WriteTo(pkt, net.UDPAddrFromAddrPort(to.addr)); err != nil {
		g.relay.dropped.Add(1)
		return
	}
	g.relay.forwarded.Add(1)
	g.relay.bytes.Add(uint64(len(inner)))
}
