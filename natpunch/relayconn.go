package natpunch

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// relayAddr is the address of a peer reached through a relay session.
type relayAddr struct{ s wire.SessionID }

// Network implements net.Addr.
func (a relayAddr) Network() string { return "peerbridge-relay" }

// String implements net.Addr.
func (a relayAddr) String() string { return "relay:" + hex.EncodeToString(a.s[:]) }

// relayPacket is a relayed QUIC packet waiting to be read.
type relayPacket struct {
	s    wire.SessionID
	data []byte
}

// relayQueue is how many relayed packets wait for the relay transport's
// reader, about 1.3 MB of 1,291-byte packets. 256 dropped 65-382 packets
// per 5 s of a relayed 40 ms-RTT blast (TestWANRelay) when the reader ran
// late on a busy machine, and every loss halves the sender's window.
const relayQueue = 1024

// relayConn is a net.PacketConn whose packets travel through gateways: it
// lets a second quic.Transport run end-to-end QUIC to peers over relay
// sessions, each session a distinct address.
type relayConn struct {
	write func(b []byte, to netip.AddrPort) error // sends on the real socket
	// maxPerPeer and max bound the sessions per peer and in all.
	maxPerPeer, max int

	mu       sync.Mutex // guards sessions and perPeer
	sessions map[wire.SessionID]*relaySess
	perPeer  map[identity.NodeID]int
	deadline readDeadline

	in        chan relayPacket // buffered: a full queue drops, as UDP would
	closed    chan struct{}
	closeOnce sync.Once

	refused, expired, delivered, dropped atomic.Uint64
	replaced                             atomic.Uint64 // granted sessions a new ask of the same peer replaced
}

// relaySess is a relay session this bridge asked for or agreed to.
type relaySess struct {
	gw      netip.AddrPort // the gateway it runs through
	peer    identity.NodeID
	last    time.Time // when a packet last went either way
	granted bool      // the peer asked for it, not this bridge
}

func newRelayConn(write func([]byte, netip.AddrPort) error, maxPerPeer, max int) *relayConn {
	return &relayConn{
		write: write, maxPerPeer: maxPerPeer, max: max,
		sessions: make(map[wire.SessionID]*relaySess),
		perPeer:  make(map[identity.NodeID]int),
		in:       make(chan relayPacket, relayQueue),
		closed:   make(chan struct{}),
	}
}

// errRelaySessions refuses a relay session past a bound.
var errRelaySessions = errors.New("natpunch: too many relay sessions")

// addSession routes session s with peer through the gateway at gw, within
// the per-peer and total bounds. Relay packets of sessions not added here
// are dropped. granted says the peer asked for it: a peer's new ask
// replaces the session it asked for before, since a pair needs one, so a
// key holds at most one of this bridge's sessions by asking.
func (c *relayConn) addSession(s wire.SessionID, gw netip.AddrPort, peer identity.NodeID, now time.Time, granted bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.sessions[s]; ok {
		return nil
	}
	if granted {
		for old, sess := range c.sessions {
			if sess.granted && sess.peer == peer {
				c.deleteLocked(old)
				c.replaced.Add(1)
			}
		}
	}
	if len(c.sessions) >= c.max || c.perPeer[peer] >= c.maxPerPeer {
		c.refused.Add(1)
		return fmt.Errorf("%w with %s: %d of at most %d, %d in all of %d", errRelaySessions, peer.Short(), c.perPeer[peer], c.maxPerPeer, len(c.sessions), c.max)
	}
	c.sessions[s] = &relaySess{gw: gw, peer: peer, last: now, granted: granted}
	c.perPeer[peer]++
	return nil
}

// deleteLocked ends session s.
func (c *relayConn) deleteLocked(s wire.SessionID) {
	sess, ok := c.sessions[s]
	if !ok {
		return
	}
	delete(c.sessions, s)
	if c.perPeer[sess.peer]--; c.perPeer[sess.peer] <= 0 {
		delete(c.perPeer, sess.peer)
	}
}

// expire ends the sessions that carried nothing for idle and reports how
// many. A relayed QUIC connection's keep-alives keep its session.
func (c *relayConn) expire(now time.Time, idle time.Duration) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for s, sess := range c.sessions {
		if now.Sub(sess.last) <= idle {
			continue
		}
		c.deleteLocked(s)
		n++
	}
	c.expired.Add(uint64(n))
	return n
}

// gateway returns the gateway of session s and marks it used.
func (c *relayConn) gateway(s wire.SessionID) (netip.AddrPort, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sess, ok := c.sessions[s]
	if !ok {
		return netip.AddrPort{}, false
	}
	sess.last = time.Now()
	return sess.gw, true
}

// deliver queues a packet that arrived from gateway from.
func (c *relayConn) deliver(from netip.AddrPort, s wire.SessionID, inner []byte) bool {
	if gw, ok := c.gateway(s); !ok || gw != from {
		c.dropped.Add(1)
		return false
	}
	select {
	case c.in <- relayPacket{s: s, data: append([]byte(nil), inner...)}:
		c.delivered.Add(1)
		return true
	default:
		c.dropped.Add(1)
		return false
	}
}

func (c *relayConn) stats() RelayStats {
	c.mu.Lock()
	n := len(c.sessions)
	c.mu.Unlock()
	return RelayStats{Sessions: n, Refused: c.refused.Load(), Expired: c.expired.Load(), Delivered: c.delivered.Load(), Dropped: c.dropped.Load()}
}

// RelayStats counts a bridge's relay sessions, for metrics.
type RelayStats struct {
	// Sessions is how many relay sessions are open; Refused counts
	// sessions refused by the per-peer or total bound; Expired those ended
	// when idle.
	Sessions         int
	Refused, Expired uint64
	// Delivered counts relayed packets taken in; Dropped those of sessions
	// this bridge does not have, or that found the queue full.
	Delivered, Dropped uint64
}

// ReadFrom implements net.PacketConn.
func (c *relayConn) ReadFrom(p []byte) (int, net.Addr, error) {
	pkt, err := receive(&c.deadline, c.in, c.closed)
	if err != nil {
		return 0, nil, err
	}
	return copy(p, pkt.data), relayAddr{pkt.s}, nil
}

// WriteTo implements net.PacketConn.
func (c *relayConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ra, ok := addr.(relayAddr)
	if !ok {
		return 0, &net.AddrError{Err: "not a relay address", Addr: addr.String()}
	}
	gw, ok := c.gateway(ra.s)
	if !ok {
		return 0, &net.AddrError{Err: "no such relay session", Addr: addr.String()}
	}
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	if err := c.write(wire.AppendRelay(make([]byte, 0, wire.RelayOverhead+len(p)), ra.s, p), gw); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close implements net.PacketConn.
func (c *relayConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}

// LocalAddr implements net.PacketConn.
func (c *relayConn) LocalAddr() net.Addr { return relayAddr{} }

// SetDeadline implements net.PacketConn.
func (c *relayConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

// SetReadDeadline implements net.PacketConn.
func (c *relayConn) SetReadDeadline(t time.Time) error {
	c.deadline.set(t)
	return nil
}

// SetWriteDeadline implements net.PacketConn; writes never block.
func (c *relayConn) SetWriteDeadline(time.Time) error { return nil }

// SetReadBuffer is a no-op: relayed packets queue in memory. It stops
// quic-go from warning that the buffer cannot be set.
func (c *relayConn) SetReadBuffer(int) error { return nil }

// SetWriteBuffer is a no-op: writes go straight to the real socket.
func (c *relayConn) SetWriteBuffer(int) error { return nil }
