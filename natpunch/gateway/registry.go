package gateway

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// record is what the gateway knows of a registered bridge: what the
// bridge said of itself, and where it is connected.
type record struct {
	wire.Record
	via     int        // index of the gateway address the bridge is connected to (or that relays to its home)
	ip      netip.Addr // what the record counts against: ratelimit.IPKey of the bridge's real IP
	expires time.Time
	// home is set for a node registered at another gateway of the fleet,
	// not here: that gateway, the address of it the node is connected
	// to, and whether the node is on its TCP relay.
	home *fleetHome
	// rank is the record's place among the fleet's holders of its node.
	rank holding
}

// Refusals of a new node by the registry.
var (
	errRegistryFull = errors.New("gateway: gateway registry is full")
	errIPFull       = errors.New("gateway: too many bridges registered from one address")
)

// registry maps node IDs to records, at most max of them and perIP from
// one address (ratelimit.IPKey of the record's ip). Records expire at
// their time and are swept on a timer, and go as soon as their bridge's
// connection does, so keys that register once and go away cost nothing
// after their connection ends.
type registry struct {
	max, perIP int
	// announce and withdraw, if set, are told of every record stored and
	// every node whose record went (not one replaced), under mu: the
	// fleet's view follows the registry's. They must not call back.
	announce, withdraw func(identity.NodeID)

	mu    sync.Mutex // guards nodes and byIP
	nodes map[identity.NodeID]record
	byIP  map[netip.Addr]int // records by ip

	refused, refusedIP, invalid, expired, gone atomic.Uint64
}

func newRegistry(max, perIP int) *registry {
	return &registry{max: max, perIP: perIP, nodes: make(map[identity.NodeID]record), byIP: make(map[netip.Addr]int)}
}

// put stores rec, replacing the node's earlier record; a node not yet in a
// full registry, or from an address that holds its share, is refused.
func (r *registry) put(rec record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.nodes[rec.ID]
	switch {
	case !ok && len(r.nodes) >= r.max:
		r.refused.Add(1)
		return errRegistryFull
	case (!ok || old.ip != rec.ip) && r.byIP[rec.ip] >= r.perIP:
		r.refusedIP.Add(1)
		return errIPFull
	}
	if ok {
		r.forgetLocked(old)
	}
	r.nodes[rec.ID] = rec
	r.byIP[rec.ip]++
	if r.announce != nil {
		r.announce(rec.ID)
	}
	return nil
}

// removeLocked deletes rec's node for good, telling withdraw.
func (r *registry) removeLocked(rec record) {
	r.forgetLocked(rec)
	if r.withdraw != nil {
		r.withdraw(rec.ID)
	}
}

// forgetLocked deletes rec's node and its count.
func (r *registry) forgetLocked(rec record) {
	delete(r.nodes, rec.ID)
	if r.byIP[rec.ip]--; r.byIP[rec.ip] <= 0 {
		delete(r.byIP, rec.ip)
	}
}

// get returns the live record of id.
func (r *registry) get(id identity.NodeID, now time.Time) (record, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.nodes[id]
	if ok && now.After(rec.expires) {
		r.removeLocked(rec)
		r.expired.Add(1)
		return record{}, false
	}
	return rec, ok
}

// drop deletes id's record if it is the one its bridge made through the
// connection from remote to gateway address via, and reports whether it
// did: that connection has ended. A record the bridge made since, through
// another connection, stays.
func (r *registry) drop(id identity.NodeID, via int, remote netip.AddrPort) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.nodes[id]
	if !ok || rec.via != via || rec.Observed != remote {
		return false
	}
	r.removeLocked(rec)
	r.gone.Add(1)
	return true
}

// dropIf deletes rec's node if its record is still rec (not one made
// since), and reports whether it did.
func (r *registry) dropIf(rec record) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, ok := r.nodes[rec.ID]
	if !ok || cur.via != rec.via || cur.Observed != rec.Observed || !cur.expires.Equal(rec.expires) {
		return false
	}
	r.removeLocked(cur)
	return true
}

// setRank sets the rank of id's record if it is still rec.
func (r *registry) setRank(rec record, h holding) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.nodes[rec.ID]; ok && cur.via == rec.via && cur.Observed == rec.Observed && cur.expires.Equal(rec.expires) {
		cur.rank = h
		r.nodes[rec.ID] = cur
	}
}

// sweep deletes the records that expired by now and reports how many.
func (r *registry) sweep(now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.nodes {
		if now.After(rec.expires) {
			r.removeLocked(rec)
			n++
		}
	}
	r.expired.Add(uint64(n))
	return n
}

func (r *registry) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.nodes)
}
