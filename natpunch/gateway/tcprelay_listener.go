package gateway

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// limitListener admits at most max connections at once, and perIP from one
// IP address; it closes the others as soon as they are accepted, before
// any TLS work is spent on them.
type limitListener struct {
	net.Listener
	max, perIP int

	mu   sync.Mutex // guards n and byIP
	n    int
	byIP map[netip.Addr]int

	refused atomic.Uint64
}

func newLimitListener(ln net.Listener, l TCPLimits) *limitListener {
	return &limitListener{Listener: ln, max: l.MaxConns, perIP: l.MaxConnsPerIP, byIP: make(map[netip.Addr]int)}
}

// Accept implements net.Listener.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		if !l.take(ip) {
			l.refused.Add(1)
			c.Close()
			continue
		}
		return &limitConn{Conn: c, release: func() { l.give(ip) }}, nil
	}
}

func (l *limitListener) take(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n >= l.max || l.byIP[ip] >= l.perIP {
		return false
	}
	l.n++
	l.byIP[ip]++
	return true
}

func (l *limitListener) give(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n--
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
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
