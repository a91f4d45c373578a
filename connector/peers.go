package connector

import (
	"net/netip"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// PeerInfo describes one live connection to a peer.
type PeerInfo struct {
	Node identity.NodeID
	Path Path
	// Remote is the peer's address as this socket sees it (the relay's for
	// a relayed connection).
	Remote netip.AddrPort
	// Pooled is true for the connection sends use; a connection it replaced
	// lingers unpooled until what is in flight on it finishes.
	Pooled bool
	// RTT is QUIC's smoothed round-trip time.
	RTT time.Duration
	// BytesIn and BytesOut are the bytes carried so far, QUIC overhead
	// included.
	BytesIn, BytesOut uint64
	// Since is when the connection was adopted.
	Since time.Time
}

// Peers returns a snapshot of every live peer connection, pooled or not.
func (c *Connector) Peers() []PeerInfo {
	pooled := c.pool.pooledSet()
	out := make([]PeerInfo, 0, len(pooled))
	for _, pc := range c.pool.live() {
		if !pc.alive() {
			continue
		}
		st := pc.qc.ConnectionStats()
		_, isPooled := pooled[pc]
		out = append(out, PeerInfo{
			Node: pc.id, Path: pc.path, Remote: addrPort(pc.qc.RemoteAddr()), Pooled: isPooled,
			RTT: st.SmoothedRTT, BytesIn: st.BytesReceived, BytesOut: st.BytesSent, Since: pc.since,
		})
	}
	return out
}

// Listening reports whether the connector has bound its socket and is not
// closed.
func (c *Connector) Listening() bool {
	return c.ctx != nil && c.ctx.Err() == nil
}

// pooledSet returns the pooled connections.
func (p *pool) pooledSet() map[*peerConn]struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[*peerConn]struct{}, len(p.conns))
	for _, pc := range p.conns {
		out[pc] = struct{}{}
	}
	return out
}
