package natpunch

import (
	"net/netip"
	"sync"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// record is what the gateway knows of a registered bridge.
type record struct {
	id        identity.NodeID
	observed  netip.AddrPort // the bridge's address as the gateway sees it
	local     []string       // addresses the bridge reports for itself
	mapping   string
	filtering string
	via       int // index of the gateway address the bridge is connected to
	expires   time.Time
}

// registry maps node IDs to records.
type registry struct {
	mu    sync.Mutex // guards nodes
	nodes map[identity.NodeID]record
}

func newRegistry() *registry { return &registry{nodes: make(map[identity.NodeID]record)} }

func (r *registry) put(rec record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nodes[rec.id] = rec
}

// get returns the live record of id.
func (r *registry) get(id identity.NodeID, now time.Time) (record, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.nodes[id]
	if ok && now.After(rec.expires) {
		delete(r.nodes, id)
		return record{}, false
	}
	return rec, ok
}

// open reports whether a NAT with this filtering admits packets from
// anyone its mapping has sent to... or from anyone at all: endpoint-independent
// filtering (no NAT, or a full cone).
func (rec record) open() bool { return rec.filtering == FilteringIndependent }

// symmetric reports endpoint-dependent mapping.
func (rec record) symmetric() bool { return rec.mapping == MappingDependent }

// candidates returns the addresses to try for rec: public first, then local.
func (rec record) candidates() []string {
	out := make([]string, 0, 1+len(rec.local))
	if rec.observed.IsValid() {
		out = append(out, rec.observed.String())
	}
	for _, l := range rec.local {
		if l != rec.observed.String() {
			out = append(out, l)
		}
	}
	return out
}

// aDials decides which side of a hole punch dials: the side whose packets
// will get through. A peer with endpoint-independent filtering admits
// anyone, so the other dials it; a symmetric peer's mapping toward the
// other is unknown in advance, so it dials; otherwise the lower node ID
// dials. Exactly one side dials, so the punch makes one connection.
func aDials(a, b record) bool {
	switch {
	case b.open() != a.open():
		return b.open()
	case a.symmetric() != b.symmetric():
		return a.symmetric()
	}
	return a.id < b.id
}
