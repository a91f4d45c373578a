package connector

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/connector/ratelimit"
)

// Refusals: what a peer over a limit is told. Inbound connections over
// MaxConns or MaxConnsPerIP are refused during the handshake (QUIC's
// CONNECTION_REFUSED); the others are closed or reset with these codes.
const (
	// codeRefused closes a connection over MaxConnsPerPeer.
	codeRefused quic.ApplicationErrorCode = 4
	// codeBusy resets a stream over MaxInboundStreams, or whose frame could
	// get no memory or did not arrive in time.
	codeBusy quic.StreamErrorCode = 3
)

// Errors a refused inbound connection is logged with.
var (
	errTooManyConns       = errors.New("connector: too many inbound connections")
	errTooManyConnsFromIP = errors.New("connector: too many inbound connections from one address")
	errTooManyConnsOfPeer = errors.New("connector: too many connections with one node")
)

// connLimits admits inbound connections, handshakes included, within
// MaxConns in total and MaxConnsPerIP per address.
type connLimits struct {
	max, perIP int

	mu    sync.Mutex         // guards total and byIP
	total int                // inbound connections admitted and not yet closed
	byIP  map[netip.Addr]int // the same, by ipKey of the remote address
}

func newConnLimits(max, perIP int) *connLimits {
	return &connLimits{max: max, perIP: perIP, byIP: make(map[netip.Addr]int)}
}

// admit takes a slot for a connection from ip, or reports why it cannot.
func (l *connLimits) admit(ip netip.Addr) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.total >= l.max:
		return errTooManyConns
	case l.byIP[ip] >= l.perIP:
		return errTooManyConnsFromIP
	}
	l.total++
	l.byIP[ip]++
	return nil
}

// release gives back the slot of a connection from ip.
func (l *connLimits) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
	}
}

// load returns how many inbound connections hold a slot.
func (l *connLimits) load() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// ipKey is the address an inbound connection from a counts against
// (ratelimit.IPKey): the IP, or its /64 for IPv6, where one host commonly
// holds a whole /64; for an address Config.SourceIP knows, the IP it
// stands for.
func (c *Connector) ipKey(a net.Addr) netip.Addr {
	ap := addrPort(a)
	if c.cfg.SourceIP != nil {
		if ip, ok := c.cfg.SourceIP(ap); ok {
			return ratelimit.IPKey(ip)
		}
	}
	return ratelimit.IPKey(ap.Addr())
}

// admitConn is the transport's ConnContext: it admits a connection within
// the limits when its first packet arrives, before the handshake, and
// frees the slot when the connection ends.
func (c *Connector) admitConn(ctx context.Context, info *quic.ClientInfo) (context.Context, error) {
	ip := c.ipKey(info.RemoteAddr)
	if err := c.conns.admit(ip); err != nil {
		c.refuseConn(err, info.RemoteAddr.String())
		return nil, err
	}
	context.AfterFunc(ctx, func() { c.conns.release(ip) })
	return ctx, nil
}

// validateSource makes peers prove their address (a QUIC Retry) once half
// of MaxConns is taken, so spoofed addresses cannot hold the slots.
func (c *Connector) validateSource(net.Addr) bool { return c.conns.load() >= c.cfg.MaxConns/2 }

// refuseConn counts and logs a refused connection.
func (c *Connector) refuseConn(err error, remote string) {
	switch err {
	case errTooManyConns:
		c.stats.refusedConns.Add(1)
	case errTooManyConnsFromIP:
		c.stats.refusedConnsPerIP.Add(1)
	case errTooManyConnsOfPeer:
		c.stats.refusedConnsPerPeer.Add(1)
	}
	if n, ok := c.refusals.Allow(time.Now(), refusalLogEvery); ok {
		c.log.Warn("refusing inbound connection", "remote", remote, "reason", err, "refused_since_last_warning", n)
	}
}

// memBudget is a codec.Budget: bytes reserved from it are reserved from its
// parent too, and it never holds more than its limit.
type memBudget struct {
	limit  int64
	used   atomic.Int64
	peak   atomic.Int64
	parent *memBudget // nil for the connector's own
}

// Reserve implements codec.Budget.
func (b *memBudget) Reserve(n int) bool {
	if !b.take(int64(n)) {
		return false
	}
	if b.parent != nil && !b.parent.Reserve(n) {
		b.used.Add(-int64(n))
		return false
	}
	return true
}

// Release implements codec.Budget.
func (b *memBudget) Release(n int) {
	b.used.Add(-int64(n))
	if b.parent != nil {
		b.parent.Release(n)
	}
}

func (b *memBudget) take(n int64) bool {
	for {
		cur := b.used.Load()
		if cur+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(cur, cur+n) {
			for p := b.peak.Load(); cur+n > p && !b.peak.CompareAndSwap(p, cur+n); p = b.peak.Load() {
			}
			return true
		}
	}
}

// smallPayload is the largest request payload not counted against
// MaxInboundRequestBytes: so many small requests are bounded by their
// number, and a few large ones cannot lock small ones out.
const smallPayload = 64 << 10

// admitRequest takes a slot for an inbound request of size payload bytes
// from the peer whose load is load, or reports false if it, or the
// connector, is at its limit.
func (c *Connector) admitRequest(load *peerLoad, size int) bool {
	if c.inboundReqs.Add(1) > int64(c.cfg.MaxInboundRequests) {
		c.inboundReqs.Add(-1)
		return false
	}
	if load.requests.Add(1) > int64(c.cfg.MaxInboundRequestsPerPeer) {
		load.requests.Add(-1)
		c.inboundReqs.Add(-1)
		return false
	}
	if size > smallPayload && !c.reqBytes.Reserve(size) {
		load.requests.Add(-1)
		c.inboundReqs.Add(-1)
		return false
	}
	return true
}

// releaseRequest gives back admitRequest's slot.
func (c *Connector) releaseRequest(load *peerLoad, size int) {
	if size > smallPayload {
		c.reqBytes.Release(size)
	}
	load.requests.Add(-1)
	c.inboundReqs.Add(-1)
}

// admitStream takes a slot for an inbound stream, or reports false once
// MaxInboundStreams are open.
func (c *Connector) admitStream() bool {
	if c.inboundStreams.Add(1) > int64(c.cfg.MaxInboundStreams) {
		c.inboundStreams.Add(-1)
		return false
	}
	return true
}

// peerLoad is what one node costs this one across its connections.
type peerLoad struct {
	conns    int          // its live connections; guarded by pool.mu
	requests atomic.Int64 // its inbound requests being served
}

// refusalLogEvery is how often refusals are logged at most.
const refusalLogEvery = 10 * time.Second
