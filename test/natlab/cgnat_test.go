package natlab_test

import (
	"context"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/test/natlab"
)

// TestHomesBehindOneCGNAT puts two homes behind one carrier NAT, which
// does not hairpin: each sees the other's public address on its own
// carrier's address, and their home LANs cannot reach each other. Every
// request must still be answered, both ways.
func TestHomesBehindOneCGNAT(t *testing.T) {
	lab := natlab.New(t)
	g := startGateway(t, lab.AddPublicHost("gw", 2))
	cg := lab.AddNAT("carrier", natlab.PortRestricted)
	ha := cg.AddNAT("home-a", natlab.PortRestricted).AddHost("a")
	hb := cg.AddNAT("home-b", natlab.DockerHost).AddHost("b")
	a := startPeer(t, "a", ha, peerConfig(g))
	b := startPeer(t, "b", hb, peerConfig(g))
	ctx, cancel := context.WithTimeout(context.Background(), firstReplyWait)
	defer cancel()
	for range 3 {
		for _, dir := range [][2]*peer{{a, b}, {b, a}} {
			got, err := dir[0].ask(ctx, dir[1], "neighbours")
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s to %s: %s in %s", dir[0].name, dir[1].name, got.path, got.took.Round(time.Millisecond))
		}
	}
}

// TestNestedNATKinds checks a nested NAT's addressing: what the world sees
// of a host behind a home router behind a carrier NAT is the carrier's
// public address.
func TestNestedNATKinds(t *testing.T) {
	lab := natlab.New(t)
	server := lab.AddPublicHost("server", 2)
	refl := startReflector(t, server)
	cg := lab.AddNAT("carrier", natlab.PortRestricted)
	home := cg.AddNAT("home", natlab.PortRestricted)
	conn := listen(t, home.AddHost("client"))
	seen1 := observe(t, conn, refl.addrs[0])
	seen2 := observe(t, conn, refl.addrs[1])
	if seen1.Addr() != cg.PublicAddr() || seen2 != seen1 {
		t.Errorf("seen as %s and %s, want one endpoint on the carrier's address %s", seen1, seen2, cg.PublicAddr())
	}
	if home.PublicAddr() == cg.PublicAddr() || !home.PublicAddr().IsValid() {
		t.Errorf("home router's outer address %s, want an address on the carrier's LAN", home.PublicAddr())
	}
}
