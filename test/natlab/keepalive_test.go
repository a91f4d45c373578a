package natlab_test

import (
	"context"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/test/natlab"
)

// mappingTimeout is how long the NATs of TestPathOutlivesMappingTimeout
// keep an idle mapping: 30 s, as many home routers do.
const mappingTimeout = 30 * time.Second

// TestPathOutlivesMappingTimeout punches a path between two bridges behind
// NATs that forget idle mappings after 30 s, leaves it idle for longer
// than that, and checks that the next request still takes the same
// connection: the bridges' keep-alives (every 15 s by default) must hold
// the NATs' mappings open.
func TestPathOutlivesMappingTimeout(t *testing.T) {
	t.Parallel()
	lab := natlab.New(t)
	g := startGateway(t, lab.AddPublicHost("gw", 2))
	na, nb := lab.AddNAT("na", natlab.PortRestricted), lab.AddNAT("nb", natlab.PortRestricted)
	for _, n := range []*natlab.NAT{na, nb} {
		if err := n.SetMappingTimeout(mappingTimeout); err != nil {
			t.Fatal(err)
		}
	}
	a := startPeer(t, "a", na.AddHost("a"), peerConfig(g))
	b := startPeer(t, "b", nb.AddHost("b"), peerConfig(g))
	ctx, cancel := context.WithTimeout(context.Background(), firstReplyWait)
	defer cancel()
	first, err := a.ask(ctx, b, "before")
	if err != nil {
		t.Fatal(err)
	}
	if first.path != "punched" {
		t.Fatalf("first path %q, want punched", first.path)
	}
	// The idle period is the scenario itself, not a wait for an event.
	idle := time.NewTimer(mappingTimeout + 5*time.Second)
	defer idle.Stop()
	<-idle.C
	ctx, cancel = context.WithTimeout(context.Background(), firstReplyWait)
	defer cancel()
	for _, dir := range [][2]*peer{{a, b}, {b, a}} {
		got, err := dir[0].ask(ctx, dir[1], "after")
		if err != nil {
			t.Fatal(err)
		}
		if got.path != "punched" || got.conn != "reused" {
			t.Errorf("%s to %s after %v idle: path %q, connection %q; want the punched connection reused",
				dir[0].name, dir[1].name, mappingTimeout+5*time.Second, got.path, got.conn)
		}
	}
}
