package gateway

import (
	"errors"
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
	via     int // index of the gateway address the bridge is connected to
	expires time.Time
}

// errRegistryFull refuses a new node when the registry holds its cap.
var errRegistryFull = errors.New("gateway: gateway registry is full")

// registry maps node IDs to records, at most max of them. Records expire
// at their time and are swept on a timer, so keys that register once and
// go away cost nothing after their TTL.
type registry struct {
	max int

	mu    sync.Mutex // guards nodes
	nodes map[identity.NodeID]record

	refused, invalid, expired atomic.Uint64
}

func newRegistry(max int) *registry {
	return &registry{max: max, nodes: make(map[identity.NodeID]record)}
}

// put stores rec, replacing the node's earlier record; a node not yet in a
// full registry is refused.
func (r *registry) put(rec record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.nodes[rec.ID]; !ok && len(r.nodes) >= r.max {
		r.refused.Add(1)
		return errRegistryFull
	}
	r.nodes[rec.ID] = rec
	return nil
}

// get returns the live record of id.
func (r *registry) get(id identity.NodeID, now time.Time) (record, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.nodes[id]
	if ok && now.After(rec.expires) {
		delete(r.nodes, id)
		r.expired.Add(1)
		return record{}, false
	}
	return rec, ok
}

// sweep deletes the records that expired by now and reports how many.
func (r *registry) sweep(now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for id, rec := range r.nodes {
		if now.After(rec.expires) {
			delete(r.nodes, id)
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
