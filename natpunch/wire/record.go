package wire

import (
	"net/netip"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// Record is what a gateway knows of a registered bridge: its node ID, the
// address the gateway saw it come from, and what it said of itself. A
// lookup answers it (as a PeerInfo), so both sides reason about a peer
// with the same methods.
type Record struct {
	ID       identity.NodeID
	Observed netip.AddrPort // the bridge's address as the gateway sees it
	Local    []string       // addresses the bridge reports for itself
	// Mapped is the port mapping the bridge says it holds on its router
	// (UPnP, NAT-PMP or PCP): a claim like Local, zero if none. A peer
	// sends to it only where its IP is the one the gateway saw the bridge
	// come from (see natpunch's Client.reachable).
	Mapped    netip.AddrPort
	Mapping   string
	Filtering string
	// Reflexive are the bridge's addresses in the other address family,
	// each checked by the gateway (see wire.Reflexive): as trusted as
	// Observed.
	Reflexive []netip.AddrPort
}

// Record is the record p describes, of node id: what a bridge learns
// from a lookup and a gateway from a fleet answer. err says Observed did
// not parse; the record then has it invalid.
func (p PeerInfo) Record(id identity.NodeID) (Record, error) {
	observed, err := netip.ParseAddrPort(p.Observed)
	return Record{
		ID: id, Observed: observed, Local: p.Local, Mapped: ParseMapped(p.Mapped),
		Mapping: p.Mapping, Filtering: p.Filtering, Reflexive: ParseReflexive(p.Reflexive),
	}, err
}

// Open reports whether a NAT with this filtering admits packets from
// anyone its mapping has sent to... or from anyone at all: endpoint-independent
// filtering (no NAT, or a full cone).
func (rec Record) Open() bool { return rec.Filtering == FilteringIndependent }

// Symmetric reports endpoint-dependent mapping.
func (rec Record) Symmetric() bool { return rec.Mapping == MappingDependent }

// Candidates returns the addresses to try for rec: public first, then the
// mapped port, then local.
func (rec Record) Candidates() []string {
	out := make([]string, 0, 2+len(rec.Local))
	if rec.Observed.IsValid() {
		out = append(out, rec.Observed.String())
	}
	if rec.Mapped.IsValid() && rec.Mapped != rec.Observed {
		out = append(out, rec.Mapped.String())
	}
	for _, l := range rec.Local {
		if l != rec.Observed.String() {
			out = append(out, l)
		}
	}
	return out
}

// ADials decides which side of a hole punch dials: the side whose packets
// will get through. A peer that holds a port mapping on its router, or has
// endpoint-independent filtering, admits anyone, so the other dials it; a symmetric peer's mapping toward the
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
func ADials(a, b Record) bool {
	switch {
	case a.Mapped.IsValid() != b.Mapped.IsValid():
		return b.Mapped.IsValid()
	case b.Open() != a.Open():
		return b.Open()
	case a.Symmetric() != b.Symmetric():
		return a.Symmetric()
	}
	return a.ID < b.ID
}

// MappedString is rec.Mapped as the wire carries it: empty for none.
func (rec Record) MappedString() string {
	if !rec.Mapped.IsValid() {
		return ""
	}
	return rec.Mapped.String()
}

// ParseMapped reads a mapped address from the wire: the zero AddrPort for
// none or anything that is not a unicast IPv4 or IPv6 address and a
// non-zero port, so a malformed claim is dropped, not refused (older
// bridges send none).
func ParseMapped(s string) netip.AddrPort {
	ap, err := netip.ParseAddrPort(s)
	a := ap.Addr().Unmap()
	if err != nil || ap.Port() == 0 || !a.IsGlobalUnicast() {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a, ap.Port())
}
