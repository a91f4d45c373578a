package natpunch

import (
	"context"
	"testing"
	"time"
)

// TestProbeOnLoopback probes a gateway started the production way (Start
// binds the filtering probe sockets itself) from a host with no NAT: both
// tests must pass, and the filtering answer must come from neither of the
// addresses the mapping test used.
func TestProbeOnLoopback(t *testing.T) {
	g := startGateway(t, RelayLimits{})
	if len(g.alts) != len(g.addrs) {
		t.Fatalf("%d filtering probe sockets for %d addresses", len(g.alts), len(g.addrs))
	}
	for i, alt := range g.alts {
		if alt.LocalAddr().String() == g.addrs[i].String() {
			t.Errorf("probe socket %d shares the listen address %s", i, g.addrs[i])
		}
	}
	_, cl := startBridge(t, g, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := cl.Probe(ctx, g.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	if r.Mapping != MappingIndependent || r.Filtering != FilteringIndependent || r.NATType != "none" {
		t.Errorf("loopback probe: mapping %q, filtering %q, type %q", r.Mapping, r.Filtering, r.NATType)
	}
}

// TestGatewayTCPRelaySharesThePort: a gateway started on ephemeral ports
// serves its TCP relay on the same port number as each UDP address, so a
// bridge finds it at the endpoint it registers with.
func TestGatewayTCPRelaySharesThePort(t *testing.T) {
	for range 3 {
		g := startGateway(t, RelayLimits{})
		tcp := g.TCPAddrs()
		if len(tcp) != len(g.Addrs()) {
			t.Fatalf("%d TCP relay addresses for %d UDP ones", len(tcp), len(g.Addrs()))
		}
		for i, u := range g.Addrs() {
			if tcp[i] != u.String() {
				t.Errorf("TCP relay on %s beside UDP %s", tcp[i], u)
			}
		}
	}
}
