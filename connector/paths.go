package connector

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// A Conn is a connection the connector pooled for a peer, as DialPath and
// WaitPath return it and a Router hands it back. The zero Conn is none.
type Conn struct{ pc *peerConn }

// Node returns the peer's node ID, proved in the TLS handshake.
func (cn Conn) Node() identity.NodeID {
	if cn.pc == nil {
		return ""
	}
	return cn.pc.id
}

// Path returns how the connection runs.
func (cn Conn) Path() Path {
	if cn.pc == nil {
		return ""
	}
	return cn.pc.path
}

// Adopt takes over a connection that NAT traversal established (accepted or
// dialled on another transport) and pools it, labelled with path. A better
// path (direct or punched) replaces a relayed one in the pool; the relayed
// connection finishes what is in flight and closes when idle.
func (c *Connector) Adopt(qc *quic.Conn, path Path) error {
	_, err := c.adopt(qc, path)
	return err
}

// DialPath dials addr on transport tr (nil means the connector's own),
// pools the connection labelled with path and returns the peer's pooled
// connection: the new one, or an older one it does not replace (see
// Adopt). The peer must prove want.
func (c *Connector) DialPath(ctx context.Context, tr *quic.Transport, addr net.Addr, want identity.NodeID, path Path) (Conn, error) {
	if tr == nil {
		tr = c.tr
	}
	c.stats.dials.Add(1)
	var refused identity.Refusal
	qc, err := tr.Dial(ctx, addr, c.id.ClientTLS(want, &refused), c.quicConf)
	if err != nil {
		c.stats.dialFailures.Add(1)
		if err := refusal(&refused, err); err != nil {
			return Conn{}, err
		}
		return Conn{}, fmt.Errorf("%w: dialling %s via %s: %w", ErrUnreachable, want.Short(), addr, err)
	}
	pc, err := c.adoptAt(qc, path, "", true)
	return Conn{pc}, err
}

// ExpectPath labels the next inbound connection from id with path, for a
// connection a hole punch makes the peer dial. The label lapses if no
// connection from id arrives within 15 seconds.
func (c *Connector) ExpectPath(id identity.NodeID, path Path) {
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	c.pool.expectLocked(id, path)
}

// PathTo reports how the pooled connection to id runs, if there is one.
func (c *Connector) PathTo(id identity.NodeID) (Path, bool) {
	pc, _ := c.pool.lookup(Target{NodeID: id})
	if pc == nil || !pc.alive() {
		return "", false
	}
	return pc.path, true
}

// RTT returns the smoothed round-trip time of the pooled connection to id.
func (c *Connector) RTT(id identity.NodeID) (time.Duration, bool) {
	pc, _ := c.pool.lookup(Target{NodeID: id})
	if pc == nil || !pc.alive() {
		return 0, false
	}
	return pc.qc.ConnectionStats().SmoothedRTT, true
}

// Identity returns the node's identity, for transports NAT traversal makes.
func (c *Connector) Identity() *identity.Identity { return c.id }

// QUICConfig returns a copy of the QUIC configuration the connector uses.
func (c *Connector) QUICConfig() *quic.Config { return c.quicConf.Clone() }
