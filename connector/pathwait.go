package connector

import (
	"context"
	"fmt"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// maxPathWakes bounds how often one WaitPath wakes for a connection on a
// path it does not want: every wake is a new connection to the node pooled,
// which takes a handshake, so within the seconds a traversal step waits an
// honest peer never reaches it.
const maxPathWakes = 64

// WaitPath waits until the pool holds a live connection to id whose path
// satisfies ok, and returns it: at once if one is pooled, else when one is
// pooled (the pool signals every connection it pools to its waiters; there
// is no polling). It fails with ctx's error when ctx ends, and with
// ErrClosed when the connector closes.
func (c *Connector) WaitPath(ctx context.Context, id identity.NodeID, ok func(Path) bool) (Conn, error) {
	for range maxPathWakes {
		pc, wake, err := c.pool.watch(id)
		if err != nil {
			return Conn{}, err
		}
		if pc != nil && pc.alive() && ok(pc.path) {
			c.pool.unwatch(id, wake)
			return Conn{pc}, nil
		}
		select {
		case <-wake:
			c.pool.unwatch(id, wake)
		case <-ctx.Done():
			c.pool.unwatch(id, wake)
			return Conn{}, timeoutOr(ctx, ctx.Err())
		}
	}
	return Conn{}, fmt.Errorf("%w: connections to %s changed %d times without the path wanted", ErrUnreachable, id.Short(), maxPathWakes)
}

// pathWait is the waiters for a node's next pooled connection.
type pathWait struct {
	wake chan struct{} // closed when a connection to the node is pooled
	n    int           // WaitPath calls watching wake
}

// watch returns id's pooled connection, if any, and a channel closed when
// another is pooled or the pool closes. Every watch is paired with an
// unwatch of the channel it returned.
func (p *pool) watch(id identity.NodeID) (*peerConn, chan struct{}, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, nil, ErrClosed
	}
	w := p.waits[id]
	if w == nil {
		w = &pathWait{wake: make(chan struct{})}
		p.waits[id] = w
	}
	w.n++
	return p.conns[id], w.wake, nil
}

// unwatch ends a watch; the last watcher of a channel not yet closed
// forgets it, so a node nobody waits for holds nothing.
func (p *pool) unwatch(id identity.NodeID, wake chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w := p.waits[id]; w != nil && w.wake == wake {
		if w.n--; w.n == 0 {
			delete(p.waits, id)
		}
	}
}

// wakeLocked tells id's waiters that a connection to id was pooled.
func (p *pool) wakeLocked(id identity.NodeID) {
	if w := p.waits[id]; w != nil {
		close(w.wake)
		delete(p.waits, id)
	}
}
