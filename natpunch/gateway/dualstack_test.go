package gateway

import (
	"net/netip"
	"testing"
)

// TestOtherForPicksProbersFamily checks the mapping probe's other address:
// one of the prober's family where the gateway has one.
func TestOtherForPicksProbersFamily(t *testing.T) {
	ap := netip.MustParseAddrPort
	g := &Gateway{addrs: []netip.AddrPort{ap("198.18.0.10:7443"), ap("198.18.0.11:7443"), ap("[2001:db8::a]:7443"), ap("[2001:db8::b]:7443")}}
	tests := []struct {
		i    int
		from netip.AddrPort
		want int
	}{
		{0, ap("198.18.0.20:1"), 1},
		{1, ap("[::ffff:198.18.0.20]:1"), 0},
		{2, ap("[2001:db8:3::a]:1"), 3},
		{3, ap("[2001:db8:3::a]:1"), 2},
	}
	for _, tt := range tests {
		if got := g.otherFor(tt.i, tt.from); got != tt.want {
			t.Errorf("otherFor(%d, %v) = %d, want %d", tt.i, tt.from, got, tt.want)
		}
	}
	one := &Gateway{addrs: []netip.AddrPort{ap("198.18.0.10:7443"), ap("[2001:db8::a]:7443")}}
	if got := one.otherFor(0, ap("198.18.0.20:1")); got != one.other(0) {
		t.Errorf("with no other IPv4 address: %d, want other's %d", got, one.other(0))
	}
}
