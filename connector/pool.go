package connector

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// pool holds the live connections and the address book.
type pool struct {
	mu         sync.Mutex                      // guards every field below
	conns      map[identity.NodeID]*peerConn   // the one pooled connection per peer
	all        map[*peerConn]struct{}          // every live connection, pooled or not
	addrs      map[identity.NodeID]string      // where a node can be dialled: static, or where it last proved its ID
	static     map[identity.NodeID]bool        // nodes whose address was configured (AddAddress) and is kept
	byEndpoint map[string]identity.NodeID      // which node answered at an endpoint
	dials      map[string]*dialCall            // dials in flight, by target key
	expect     map[identity.NodeID]expectation // path to label the next inbound connection from a node with
	loads      map[identity.NodeID]*peerLoad   // what each node with a live connection costs
	waits      map[identity.NodeID]*pathWait   // WaitPath calls waiting for a node's next pooled connection
	// gone holds when each node that proved its ID at an endpoint lost its
	// last connection: its entries in addrs (if not static) and byEndpoint
	// are forgotten addrTTL later, or sooner once more than maxGone nodes
	// are gone (see addrbook.go).
	gone    map[identity.NodeID]time.Time
	taught  map[identity.NodeID]bool // nodes with a learned address or endpoint
	addrTTL time.Duration
	maxGone int
	closed  bool
}

// dialCall is one dial that concurrent callers share.
type dialCall struct {
	done chan struct{} // closed when pc and err are set
	pc   *peerConn
	err  error
}

func newPool() *pool {
	return &pool{
		conns:      make(map[identity.NodeID]*peerConn),
		all:        make(map[*peerConn]struct{}),
		addrs:      make(map[identity.NodeID]string),
		static:     make(map[identity.NodeID]bool),
		byEndpoint: make(map[string]identity.NodeID),
		dials:      make(map[string]*dialCall),
		expect:     make(map[identity.NodeID]expectation),
		loads:      make(map[identity.NodeID]*peerLoad),
		waits:      make(map[identity.NodeID]*pathWait),
		gone:       make(map[identity.NodeID]time.Time),
		taught:     make(map[identity.NodeID]bool),
		addrTTL:    learnedAddrTTL,
		maxGone:    maxGoneNodes,
	}
}

// lookup returns the pooled connection for t, if any, and the endpoint to
// dial otherwise.
func (p *pool) lookup(t Target) (pc *peerConn, endpoint string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := t.NodeID
	if id == "" {
		id = p.byEndpoint[t.Endpoint]
	}
	if id != "" {
		pc = p.conns[id]
	}
	endpoint = t.Endpoint
	if endpoint == "" {
		endpoint = p.addrs[t.NodeID]
	}
	return pc, endpoint
}

// startDial returns the dial in flight for key, or registers a new one; leader
// is true for the caller that must perform it.
func (p *pool) startDial(key string) (call *dialCall, leader bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if call := p.dials[key]; call != nil {
		return call, false
	}
	call = &dialCall{done: make(chan struct{})}
	p.dials[key] = call
	return call, true
}

func (p *pool) finishDial(key string, call *dialCall, pc *peerConn, err error) {
	p.mu.Lock()
	delete(p.dials, key)
	p.mu.Unlock()
	call.pc, call.err = pc, err
	close(call.done)
}

// add records a new live connection and pools it unless the peer already has
// a live pooled one. It returns the pooled connection for the peer. It fails
// with ErrClosed if the pool is closed, and with errTooManyConnsOfPeer if
// the peer already has maxPerPeer live connections. No connection is ever
// evicted to make room.
func (p *pool) add(pc *peerConn, endpoint string, maxPerPeer int) (*peerConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	load := p.loads[pc.id]
	if load == nil {
		load = &peerLoad{}
		p.loads[pc.id] = load
	}
	if load.conns >= maxPerPeer {
		return nil, errTooManyConnsOfPeer
	}
	load.conns++
	pc.load = load
	delete(p.gone, pc.id)
	p.all[pc] = struct{}{}
	if endpoint != "" {
		// The peer proved its ID at endpoint: remember both ways, so a
		// target naming only the ID can be dialled once this connection
		// is gone (for a while: addrbook.go).
		p.taughtLocked(pc.id, endpoint)
	}
	if cur := p.conns[pc.id]; cur != nil && cur.alive() && !replaces(cur, pc) {
		return cur, nil
	}
	p.conns[pc.id] = pc
	p.wakeLocked(pc.id)
	return pc, nil
}

// remove forgets a connection that has closed.
func (p *pool) remove(pc *peerConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.all[pc]; !ok {
		return
	}
	delete(p.all, pc)
	others := pc.load.conns > 1
	if pc.load.conns--; pc.load.conns == 0 {
		delete(p.loads, pc.id)
		p.goneLocked(pc.id, time.Now())
	}
	if p.conns[pc.id] != pc {
		return
	}
	delete(p.conns, pc.id)
	if others {
		p.promoteLocked(pc.id)
	}
}

// lookupConn returns the pooled connection to id, or nil.
func (p *pool) lookupConn(id identity.NodeID) *peerConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns[id]
}

// promoteLocked pools the best live connection left to id, if any, after
// its pooled one ended: a peer that reconnected while its old connection
// was still open (a silently dead TCP relay link, a NAT rebinding) stays
// reachable without dialling again.
func (p *pool) promoteLocked(id identity.NodeID) {
	var best *peerConn
	for pc := range p.all {
		if pc.id != id || !pc.alive() || pc.leaving.Load() {
			continue
		}
		if best == nil || replaces(best, pc) {
			best = pc
		}
	}
	if best != nil {
		p.conns[id] = best
		p.wakeLocked(id)
	}
}

// idle returns the connections with no activity since now-timeout and no
// request in flight.
func (p *pool) idle(now, timeout int64) []*peerConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*peerConn
	for pc := range p.all {
		if pc.inflight.Load() == 0 && now-pc.lastActive.Load() > timeout {
			out = append(out, pc)
		}
	}
	return out
}

// live returns every live connection, pooled or not.
func (p *pool) live() []*peerConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Collect(maps.Keys(p.all))
}

// closeAll marks the pool closed and returns every connection.
func (p *pool) closeAll() []*peerConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for id := range p.waits {
		p.wakeLocked(id)
	}
	return slices.Collect(maps.Keys(p.all))
}

// setStaticAddr records a configured address of id, which nothing learned
// later replaces.
func (p *pool) setStaticAddr(id identity.NodeID, endpoint string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.addrs[id] = endpoint
	p.static[id] = true
}

func (p *pool) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// replaces reports whether next should take cur's place in the pool: a
// better path, or on a path as good the connection both peers prefer. The
// connection replaced finishes what is in flight and closes when idle.
func replaces(cur, next *peerConn) bool {
	if cur.leaving.Load() || upgrades(cur.path, next.path) {
		return true
	}
	sameClass := (cur.path == PathRelayed) == (next.path == PathRelayed)
	return sameClass && next.preferred && !cur.preferred
}

// expectation is a label for the next inbound connection from a node, valid
// until a deadline: a punch that failed must not label a later, unrelated
// connection from that peer.
type expectation struct {
	path  Path
	until time.Time
}

// expectFor is how long ExpectPath's label waits for its connection.
const expectFor = 15 * time.Second

// expectLocked records an expectation and forgets the stale ones.
func (p *pool) expectLocked(id identity.NodeID, path Path) {
	now := time.Now()
	for k, e := range p.expect {
		if now.After(e.until) {
			delete(p.expect, k)
		}
	}
	p.expect[id] = expectation{path: path, until: now.Add(expectFor)}
}

// upgrades reports whether a connection on path next should replace a pooled
// one on path cur: anything beats the relay.
func upgrades(cur, next Path) bool { return cur == PathRelayed && next != PathRelayed }

// inboundPath returns the path to label an inbound connection from id with,
// consuming any expectation ExpectPath set.
func (p *pool) inboundPath(id identity.NodeID, def Path) Path {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.expect[id]; ok {
		delete(p.expect, id)
		if time.Now().Before(e.until) {
			return e.path
		}
	}
	return def
}
