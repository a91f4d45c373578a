package natpunch

import (
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// relayAddr is the address of a peer reached through a relay session.
type relayAddr struct{ s sessionID }

// Network implements net.Addr.
func (a relayAddr) Network() string { return "peerbridge-relay" }

// String implements net.Addr.
func (a relayAddr) String() string { return "relay:" + hex.EncodeToString(a.s[:]) }

// relayPacket is a relayed QUIC packet waiting to be read.
type relayPacket struct {
	s    sessionID
	data []byte
}

// relayConn is a net.PacketConn whose packets travel through gateways: it
// lets a second quic.Transport run end-to-end QUIC to peers over relay
// sessions, each session a distinct address.
type relayConn struct {
	write func(b []byte, to netip.AddrPort) error // sends on the real socket

	mu       sync.Mutex                   // guards sessions, deadline and wake
	sessions map[sessionID]netip.AddrPort // the gateway each session runs through
	deadline time.Time
	wake     chan struct{} // closed when the deadline changes

	in        chan relayPacket // buffered: a full queue drops, as UDP would
	closed    chan struct{}
	closeOnce sync.Once
}

func newRelayConn(write func([]byte, netip.AddrPort) error) *relayConn {
	return &relayConn{
		write:    write,
		sessions: make(map[sessionID]netip.AddrPort),
		wake:     make(chan struct{}),
		in:       make(chan relayPacket, 256),
		closed:   make(chan struct{}),
	}
}

// addSession routes session s through the gateway at gw.
func (c *relayConn) addSession(s sessionID, gw netip.AddrPort) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sessions[s] = gw
}

// deliver queues a packet that arrived from gateway from.
func (c *relayConn) deliver(from netip.AddrPort, s sessionID, inner []byte) bool {
	c.mu.Lock()
	gw, ok := c.sessions[s]
	c.mu.Unlock()
	if !ok || gw != from {
		return false
	}
	select {
	case c.in <- relayPacket{s: s, data: append([]byte(nil), inner...)}:
		return true
	default:
		return false
	}
}

// ReadFrom implements net.PacketConn.
func (c *relayConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		c.mu.Lock()
		deadline, wake := c.deadline, c.wake
		c.mu.Unlock()
		var timeout <-chan time.Time
		if !deadline.IsZero() {
			d := time.Until(deadline)
			if d <= 0 {
				return 0, nil, os.ErrDeadlineExceeded
			}
			t := time.NewTimer(d)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case pkt := <-c.in:
			return copy(p, pkt.data), relayAddr{pkt.s}, nil
		case <-c.closed:
			return 0, nil, net.ErrClosed
		case <-timeout:
			return 0, nil, os.ErrDeadlineExceeded
		case <-wake:
		}
	}
}

// WriteTo implements net.PacketConn.
func (c *relayConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ra, ok := addr.(relayAddr)
	if !ok {
		return 0, &net.AddrError{Err: "not a relay address", Addr: addr.String()}
	}
	c.mu.Lock()
	gw, ok := c.sessions[ra.s]
	c.mu.Unlock()
	if !ok {
		return 0, &net.AddrError{Err: "no such relay session", Addr: addr.String()}
	}
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	if err := c.write(appendRelay(make([]byte, 0, relayOverhead+len(p)), ra.s, p), gw); err != nil {
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
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	close(c.wake)
	c.wake = make(chan struct{})
	return nil
}

// SetWriteDeadline implements net.PacketConn; writes never block.
func (c *relayConn) SetWriteDeadline(time.Time) error { return nil }

// SetReadBuffer is a no-op: relayed packets queue in memory. It stops
// quic-go from warning that the buffer cannot be set.
func (c *relayConn) SetReadBuffer(int) error { return nil }

// SetWriteBuffer is a no-op: writes go straight to the real socket.
func (c *relayConn) SetWriteBuffer(int) error { return nil }
