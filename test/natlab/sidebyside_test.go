package natlab_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/peerbridge/peerbridge/test/natlab"
)

// sideBySidePairs is how many pairs TestSideBySideDockerHosts connects,
// each with routers of its own.
const sideBySidePairs = 3

// TestSideBySideDockerHosts is issue 22's "NATs side by side": two
// Docker-style hosts (masquerade, unsolicited packets taken into the
// router's own stack) whose routers sit on one segment with no router
// between them. No punch from the bridges' one socket can open such a
// pair: the packet that opens one side's NAT must pass it (TTL 2; see
// TestLowTTLOpensOwnNATOnlyWithTTL2) and so reaches the other router with
// TTL 1, which takes it into its own stack and maps its own side's flow to
// a random port nobody can learn (TestSideBySideTTL2ReachesPeerRouter).
// So each pair must meet through the relay, quickly and both ways, and is
// logged in case a future change finds a way around it.
func TestSideBySideDockerHosts(t *testing.T) {
	lab := natlab.New(t)
	if err := lab.SetRouterHop(false); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, lab.AddPublicHost("gw", 2))
	for i := range sideBySidePairs {
		ha := lab.AddNAT(fmt.Sprintf("s%d-na", i), natlab.DockerHost).AddHost(fmt.Sprintf("s%d-a", i))
		hb := lab.AddNAT(fmt.Sprintf("s%d-nb", i), natlab.DockerHost).AddHost(fmt.Sprintf("s%d-b", i))
		t.Run(fmt.Sprint("pair ", i), func(t *testing.T) {
			a := startPeer(t, "a", ha, peerConfig(g))
			b := startPeer(t, "b", hb, peerConfig(g))
			ctx, cancel := context.WithTimeout(context.Background(), firstReplyWait)
			defer cancel()
			ab, err := a.ask(ctx, b, "first")
			if err != nil {
				t.Fatal(err)
			}
			ba, err := b.ask(ctx, a, "first")
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("first a → b %v (%s), b → a %v (%s)", ab.took, ab.path, ba.took, ba.path)
		})
	}
}
