package gateway

import (
	"testing"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// startLoopback runs a gateway the production way on two loopback ports.
func startLoopback(t *testing.T) *Gateway {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Listen: []string{"127.0.0.1:0", "127.0.0.1:0"}}, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// TestStartBindsProbeSockets: Start binds a filtering probe socket beside
// each listen address, so the filtering answer comes from neither of the
// addresses a prober's mapping test used.
func TestStartBindsProbeSockets(t *testing.T) {
	g := startLoopback(t)
	if len(g.alts) != len(g.addrs) {
		t.Fatalf("%d filtering probe sockets for %d addresses", len(g.alts), len(g.addrs))
	}
	for i, alt := range g.alts {
		if alt.LocalAddr().String() == g.addrs[i].String() {
			t.Errorf("probe socket %d shares the listen address %s", i, g.addrs[i])
		}
	}
}

// TestGatewayTCPRelaySharesThePort: a gateway started on ephemeral ports
// serves its TCP relay on the same port number as each UDP address, so a
// bridge finds it at the endpoint it registers with.
func TestGatewayTCPRelaySharesThePort(t *testing.T) {
	for range 3 {
		g := startLoopback(t)
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
