package natpunch

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/natpunch/wire"
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

func TestRelaySessionsFollowGateway(t *testing.T) {
	c := newRelayConn(func([]byte, netip.AddrPort) error { return nil }, 4, 8)
	v4, v6 := netip.MustParseAddrPort("198.18.0.2:9444"), netip.MustParseAddrPort("[2001:db8::2]:9444")
	other := netip.MustParseAddrPort("198.18.0.3:9444")
	now := time.Now()
	for i, gw := range []netip.AddrPort{v4, v4, other} {
		if err := c.addSession(wire.SessionID{byte(i)}, gw, "peer", now, false); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.moveGateway(v4, v6); n != 2 {
		t.Fatalf("moved %d sessions, want 2", n)
	}
	for i, want := range []netip.AddrPort{v6, v6, other} {
		if got, _ := c.gateway(wire.SessionID{byte(i)}); got != want {
			t.Fatalf("session %d through %v, want %v", i, got, want)
		}
	}
}
