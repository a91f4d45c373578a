package connector

import "testing"

// TestCloseFromClosesOnlyThatAddress closes the connection from one peer's
// address and leaves another peer's.
func TestCloseFromClosesOnlyThatAddress(t *testing.T) {
	nodes := startNodes(t, 3, Config{})
	b, a, c := nodes[0], nodes[1], nodes[2]
	ctx := testCtx(t)
	for _, from := range []*Connector{a, c} {
		if _, err := from.Request(ctx, Outbound{Target: targetOf(b), Type: "echo"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := b.CloseFrom(a.Addr()); n != 1 {
		t.Fatalf("closed %d connections from a, want 1", n)
	}
	waitFor(t, "b's connection from a to close", func() bool { _, ok := b.PathTo(a.NodeID()); return !ok })
	if _, ok := b.PathTo(c.NodeID()); !ok {
		t.Fatal("the connection from c closed too")
	}
}
