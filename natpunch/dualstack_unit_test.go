package natpunch

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestTargetsAddReflexiveAfterObserved(t *testing.T) {
	cl := &Client{}
	subnets := []netip.Prefix{netip.MustParsePrefix("198.19.1.0/24"), netip.MustParsePrefix("2001:db8:1::/64")}
	obs := netip.MustParseAddrPort("[2001:db8:f::2]:5000")
	refl := netip.MustParseAddrPort("198.18.0.20:6000")
	tests := []struct {
		name      string
		observed  netip.AddrPort
		reflexive []netip.AddrPort
		claimed   []string
		want      []string
	}{
		{"observed then reflexive", obs, []netip.AddrPort{refl}, nil, []string{obs.String(), refl.String()}},
		{"a claimed IPv6 address off our subnets is left out", obs, nil, []string{"[2001:db8:9::1]:5000"}, []string{obs.String()}},
		{"a claimed IPv6 address on our /64 is kept", obs, nil, []string{"[2001:db8:1::7]:5000"}, []string{obs.String(), "[2001:db8:1::7]:5000"}},
		{"reflexive before claims", obs, []netip.AddrPort{refl}, []string{"198.19.1.5:1"}, []string{obs.String(), refl.String(), "198.19.1.5:1"}},
		{"at most four", obs, []netip.AddrPort{refl}, []string{"198.19.1.5:1", "198.19.1.6:1", "198.19.1.7:1"}, []string{obs.String(), refl.String(), "198.19.1.5:1", "198.19.1.6:1"}},
		{"reflexive alone", netip.AddrPort{}, []netip.AddrPort{refl}, nil, []string{refl.String()}},
		{"a duplicate of observed", obs, []netip.AddrPort{obs}, nil, []string{obs.String()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, ap := range cl.targets(tt.observed, tt.reflexive, tt.claimed, subnets) {
				got = append(got, ap.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDialDelaysHappyEyeballs(t *testing.T) {
	d := happyEyeballsDelay
	tests := []struct {
		name  string
		addrs []string
		want  []time.Duration
	}{
		{"IPv4 only", []string{"198.18.0.1:1", "198.19.1.2:1"}, []time.Duration{0, 0}},
		{"IPv6 only", []string{"[2001:db8::1]:1"}, []time.Duration{0}},
		{"both", []string{"198.18.0.1:1", "[2001:db8::1]:1"}, []time.Duration{d, 0}},
		{"a name waits for nothing", []string{"gw.example:1", "[2001:db8::1]:1", "[::ffff:198.18.0.1]:1"}, []time.Duration{0, 0, d}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dialDelays(tt.addrs); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
