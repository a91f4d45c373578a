package natpunch

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// A mapped port is tried where it is on the IP the gateway saw the peer
// come from, and left out elsewhere, like any other claim.
func TestReachableMapped(t *testing.T) {
	cl := &Client{}
	rec := wire.Record{
		Observed: netip.MustParseAddrPort("198.51.100.7:4000"),
		Mapped:   netip.MustParseAddrPort("198.51.100.7:6000"),
		Local:    []string{"198.51.100.8:6000", "203.0.113.1:6000"},
	}
	got := cl.reachable(rec.Observed, rec.Candidates(), nil)
	if fmt.Sprint(got) != "[198.51.100.7:4000 198.51.100.7:6000]" || cl.sent.addrsRefused.Load() != 2 {
		t.Errorf("targets %v, %d left out; want observed and mapped, 2 left out", got, cl.sent.addrsRefused.Load())
	}
}

// A peer that holds a mapping is dialled first, and is the side the other
// dials in a punch.
func TestMappedDialledFirst(t *testing.T) {
	cl := &Client{}
	sym := wire.Record{ID: "a", Mapping: wire.MappingDependent, Filtering: wire.FilteringDependent}
	mapped := sym
	mapped.ID, mapped.Mapped = "b", netip.MustParseAddrPort("198.51.100.7:6000")
	if !cl.directFirst(mapped) || !cl.punchMayWork(mapped) {
		t.Error("a mapped peer is not dialled first")
	}
	if !wire.ADials(sym, mapped) || wire.ADials(mapped, sym) {
		t.Error("the side without a mapping does not dial the mapped side")
	}
}
