package connector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// QUIC application error codes this package closes connections and streams with.
const (
	codeShutdown  quic.ApplicationErrorCode = 0
	codeIdle      quic.ApplicationErrorCode = 1
	codeDead      quic.ApplicationErrorCode = 3
	codeCancelled quic.StreamErrorCode      = 1
	codeProtocol  quic.StreamErrorCode      = 2
)

// peerConn is one authenticated QUIC connection to a peer.
type peerConn struct {
	c    *Connector
	qc   *quic.Conn
	id   identity.NodeID
	path Path
	// preferred marks the connection that the lower of the two node IDs
	// dialled. When both peers dial each other at once, both pool that one,
	// so they settle on one connection instead of using one each.
	preferred bool
	since     time.Time // when adopted

	load   *peerLoad  // shared by the peer's connections; set by pool.add
	frames *memBudget // this connection's share of the connector's frame budget

	lastActive atomic.Int64 // connector clock of the last message either way (pings are not messages)
	lastRecv   atomic.Int64 // connector clock of the last frame received
	inflight   atomic.Int32 // requests in flight either way
	outflight  atomic.Int32 // requests this side sent, in flight
	leaving    atomic.Bool  // one side is going away: nothing new goes out on it (goaway.go)
	peerLeft   atomic.Bool  // the peer said it is done with the connection
	sentAway   atomic.Bool  // this side said so
	out        sender       // the outbound message stream
	reqs       reqStreams   // idle request streams
	wg         sync.WaitGroup
}

// adopt takes over an established connection: it checks the peer's identity,
// pools the connection and starts serving its streams. It returns the pooled
// connection for that peer, which may be an older one.
func (c *Connector) adopt(qc *quic.Conn, path Path) (*peerConn, error) {
	return c.adoptAt(qc, path, "", false)
}

// adoptAt is adopt for a connection to endpoint ("" if not known), which
// this side dialled if dialled is true.
func (c *Connector) adoptAt(qc *quic.Conn, path Path, endpoint string, dialled bool) (*peerConn, error) {
	id, err := identity.PeerNodeID(qc.ConnectionState().TLS)
	if err != nil {
		qc.CloseWithError(codeDead, "no identity")
		return nil, fmt.Errorf("connector: %w", err)
	}
	if endpoint == "" && path == PathDirect {
		path = c.pool.inboundPath(id, path)
	}
	pc := &peerConn{c: c, qc: qc, id: id, path: path, preferred: dialled == (c.NodeID() < id),
		frames: &memBudget{limit: int64(c.cfg.ConnFrameBudget), parent: c.frames}}
	pc.out.pc = pc
	now := c.now()
	pc.lastActive.Store(now)
	pc.lastRecv.Store(now)
	pc.since = time.Now()
	before, _ := c.PathTo(id)
	maxPerPeer := c.cfg.MaxConnsPerPeer
	if dialled {
		maxPerPeer = math.MaxInt // this node chose to make it
	}
	pooled, err := c.pool.add(pc, endpoint, maxPerPeer)
	switch {
	case errors.Is(err, ErrClosed):
		qc.CloseWithError(codeShutdown, "shutdown")
		return nil, err
	case err != nil:
		c.refuseConn(err, qc.RemoteAddr().String())
		qc.CloseWithError(codeRefused, "too many connections from this node")
		return nil, err
	}
	c.opened(pc, pooled, before)
	c.wg.Add(1)
	go pc.run()
	return pooled, nil
}

func addrPort(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		return u.AddrPort()
	}
	return netip.AddrPort{}
}

// run accepts the peer's streams until the connection ends, then forgets the
// connection and fails what was waiting on it.
func (pc *peerConn) run() {
	defer pc.c.wg.Done()
	ctx := pc.qc.Context()
	for {
		st, err := pc.qc.AcceptStream(ctx)
		if err != nil {
			break
		}
		if !pc.c.admitStream() {
			pc.c.stats.refusedStreams.Add(1)
			st.CancelRead(codeBusy)
			st.CancelWrite(codeBusy)
			continue
		}
		pc.wg.Add(1)
		go pc.serveStream(st)
	}
	pc.c.pool.remove(pc)
	pc.c.closed(pc)
	pc.out.fail(context.Cause(ctx))
	pc.reqs.close()
	pc.wg.Wait()
}

// alive reports whether the connection is still open.
func (pc *peerConn) alive() bool { return pc.qc.Context().Err() == nil }

func (pc *peerConn) close(code quic.ApplicationErrorCode, why string) {
	pc.qc.CloseWithError(code, why)
}

// touch records activity for idle accounting.
func (pc *peerConn) touch() { pc.lastActive.Store(pc.c.now()) }

// received records a message (a send, a request, an answer) from the peer
// with a payload of n bytes.
func (pc *peerConn) received(n int) {
	pc.heard()
	pc.c.stats.in(n)
}

// heard records a frame from the peer: activity, for idle accounting and
// reverification, without counting a message (an acknowledgement).
func (pc *peerConn) heard() {
	now := pc.c.now()
	pc.lastRecv.Store(now)
	pc.lastActive.Store(now)
}

// pinged records a ping from the peer: the connection is alive, but a ping
// is not a message, so it does not keep an idle connection open.
func (pc *peerConn) pinged() { pc.lastRecv.Store(pc.c.now()) }
