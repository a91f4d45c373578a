package natpunch

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
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

// errRegistryFull refuses a new node when the registry holds its cap.
var errRegistryFull = errors.New("natpunch: gateway registry is full")

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
	if _, ok := r.nodes[rec.id]; !ok && len(r.nodes) >= r.max {
		r.refused.Add(1)
		return errRegistryFull
	}
	r.nodes[rec.id] = rec
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
//
// The NAT behaviour in a record is the bridge's own claim, which the
// gateway cannot check, so a requester can choose to be dialled. That is
// worth nothing to an attacker: a side that dials or sprays does so only to
// the address the gateway saw the other side's authenticated connection
// come from and to claimed addresses on its own subnets (see
// Client.punchTargets), within its per-peer punch budget, so being dialled
// only brings the victim's packets back to the attacker itself.
func aDials(a, b record) bool {
	switch {
	case b.open() != a.open():
		return b.open()
	case a.symmetric() != b.symmetric():
		return a.symmetric()
	}
	return a.id < b.id
}
