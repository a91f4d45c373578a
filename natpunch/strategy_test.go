package natpunch

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// usableSteps names the strategies traverse would try for a, in order.
func usableSteps(cl *Client, a *attempt) []string {
	var out []string
	for _, s := range cl.strategies() {
		if s.applies(a) {
			out = append(out, s.name)
		}
	}
	return out
}

// TestStrategyRules: first contact and the upgrade loop choose from one
// list by the rules Route always had: the direct dial first where it can
// be answered (or an endpoint is given, or punching skipped), the punch
// where it may work (always when upgrading, never when skipped), the relay
// last and never when upgrading.
func TestStrategyRules(t *testing.T) {
	me := &Report{Public: "198.51.100.1:4000", Mapping: wire.MappingIndependent, Filtering: wire.FilteringDependent}
	peer := netip.MustParseAddrPort("203.0.113.9:5000")
	open := wire.Record{Observed: peer, Mapping: wire.MappingIndependent, Filtering: wire.FilteringIndependent}
	closed := wire.Record{Observed: peer, Mapping: wire.MappingIndependent, Filtering: wire.FilteringDependent}
	symmetric := wire.Record{Observed: peer, Mapping: wire.MappingDependent, Filtering: wire.FilteringDependent}
	unknown := wire.Record{Observed: peer, Mapping: wire.Unknown, Filtering: wire.Unknown}
	lan := wire.Record{Observed: netip.MustParseAddrPort("198.51.100.1:5000"), Mapping: wire.MappingIndependent, Filtering: wire.FilteringDependent}
	skip := connector.NATOptions{SkipHolePunch: true}
	endpoint := connector.NATOptions{Endpoint: "192.0.2.7:4000"}
	for _, tc := range []struct {
		name      string
		info      wire.Record
		opts      connector.NATOptions
		upgrading bool
		want      []string
	}{
		{"open peer", open, connector.NATOptions{}, false, []string{"direct", "punch", "relay"}},
		{"filtering peer", closed, connector.NATOptions{}, false, []string{"punch", "relay"}},
		{"peer whose probe went unanswered", unknown, connector.NATOptions{}, false, []string{"punch", "relay"}},
		{"filtering peer behind our address", lan, connector.NATOptions{}, false, []string{"direct", "punch", "relay"}},
		{"filtering peer, endpoint given", closed, endpoint, false, []string{"direct", "punch", "relay"}},
		{"filtering peer, punch skipped", closed, skip, false, []string{"direct", "relay"}},
		{"symmetric filtering peer", symmetric, connector.NATOptions{}, false, []string{"relay"}},
		{"upgrading open peer", open, connector.NATOptions{}, true, []string{"direct", "punch"}},
		{"upgrading symmetric peer", symmetric, connector.NATOptions{}, true, []string{"punch"}},
		{"upgrading, punch skipped", closed, skip, true, []string{"direct"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := &Client{report: me}
			got := usableSteps(cl, &attempt{info: tc.info, opts: tc.opts, upgrading: tc.upgrading})
			if !slices.Equal(got, tc.want) {
				t.Errorf("steps %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDirectDialsOnlyObservedAndOwnSubnets is issue 18, row 5: a key that
// registers 8 claimed local addresses on no subnet of this node must not
// have this node's direct dial send at them. The dial goes to the address
// the gateway saw, claims on this node's own subnets, and an endpoint the
// local sender named.
func TestDirectDialsOnlyObservedAndOwnSubnets(t *testing.T) {
	claims := []string{"198.19.1.7:80", "198.19.1.8:80"}
	for i := range 8 {
		claims = append(claims, netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i)}), 9).String())
	}
	info := wire.Record{Observed: netip.MustParseAddrPort("203.0.113.9:5000"), Local: claims}
	subnets := []netip.Prefix{netip.MustParsePrefix("198.19.1.0/24")}
	for _, tc := range []struct {
		name string
		opts connector.NATOptions
		want []string
	}{
		{"gateway's knowledge only", connector.NATOptions{}, []string{"203.0.113.9:5000", "198.19.1.7:80", "198.19.1.8:80"}},
		{"endpoint named locally", connector.NATOptions{Endpoint: "192.0.2.99:4000"}, []string{"192.0.2.99:4000", "203.0.113.9:5000", "198.19.1.7:80", "198.19.1.8:80"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := &Client{}
			got := cl.directAddrs(&attempt{info: info, opts: tc.opts}, subnets)
			if !slices.Equal(got, tc.want) {
				t.Errorf("dials %v, want %v", got, tc.want)
			}
			if n := cl.sent.addrsRefused.Load(); n != 8 {
				t.Errorf("%d claims left out, want 8", n)
			}
		})
	}
}
