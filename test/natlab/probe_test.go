package natlab_test

import (
	"testing"

	"github.com/peerbridge/peerbridge/natpunch/wire"
	"github.com/peerbridge/peerbridge/test/natlab"
)

// TestProbeReports runs the NAT probe a bridge makes at registration from
// behind every kind of NAT and checks its RFC 4787 words. A Docker-style
// host (masquerade, no input firewall) must come out endpoint-independent:
// a probe that sends the unsolicited packet first makes it look symmetric.
func TestProbeReports(t *testing.T) {
	tests := []struct {
		kind      natlab.Kind
		mapping   string
		filtering string
		natType   string
	}{
		{natlab.None, wire.MappingIndependent, wire.FilteringIndependent, "none"},
		{natlab.FullCone, wire.MappingIndependent, wire.FilteringIndependent, "full cone"},
		{natlab.PortRestricted, wire.MappingIndependent, wire.FilteringDependent, "restricted or port-restricted cone"},
		{natlab.DockerHost, wire.MappingIndependent, wire.FilteringDependent, "restricted or port-restricted cone"},
		{natlab.Symmetric, wire.MappingDependent, wire.FilteringDependent, "symmetric"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			lab := natlab.New(t)
			g := startGateway(t, lab.AddPublicHost("gateway", 2))
			p := startPeer(t, "peer", lab.AddNAT("nat", tt.kind).AddHost("peer"), peerConfig(g))
			r := p.cl.Report()
			if r == nil {
				t.Fatal("registered without a NAT report")
			}
			if r.Mapping != tt.mapping || r.Filtering != tt.filtering || r.NATType != tt.natType {
				t.Errorf("behind %s: mapping %q, filtering %q, type %q; want %q, %q, %q",
					tt.kind, r.Mapping, r.Filtering, r.NATType, tt.mapping, tt.filtering, tt.natType)
			}
		})
	}
}
