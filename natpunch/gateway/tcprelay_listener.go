package gateway

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/peerbridge/peerbridge/connector/ratelimit"
)

// limitListener admits at most max connections at once, and perIP from one
// IP address (ratelimit.IPKey: an IPv6 /64 counts as one, as in the QUIC
// limits); it closes the others as soon as they are accepted, before any
// TLS work is spent on them.
type limitListener struct {
	net.Listener
	slots *ratelimit.Slots[netip.Addr]

	refused atomic.Uint64
}

func newLimitListener(ln net.Listener, l TCPLimits) *limitListener {
	return &limitListener{Listener: ln, slots: ratelimit.NewSlots[netip.Addr](l.MaxConns, l.MaxConnsPerIP)}
}

// Accept implements net.Listener.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := ratelimit.IPKey(remoteIP(c))
		if l.slots.Take(ip) != nil {
			l.refused.Add(1)
			c.Close()
			continue
		}
		return &limitConn{Conn: c, release: func() { l.slots.Give(ip) }}, nil
	}
}

func remoteIP(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// limitConn gives its place back once, when closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close implements net.Conn.
func (c *limitConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
