package connector

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestAddrBookForgetsGoneNodes is issue 17's pool.addrs and
// pool.byEndpoint: what a node taught the address book outlives its last
// connection by learnedAddrTTL and no more, configured addresses stay, and
// at most maxGone nodes without a connection are remembered, the latest.
func TestAddrBookForgetsGoneNodes(t *testing.T) {
	a := newNode(t, Config{}, newIdentity(t), nil)
	a.pool.maxGone = 2
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	peers := startNodes(t, 4, Config{})
	static := peers[3]
	a.AddAddress(static.NodeID(), static.Addr().String())
	ctx := testCtx(t)
	for _, p := range peers {
		if err := a.Send(ctx, Outbound{Target: targetOf(p), Type: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	if addrs, eps := a.pool.addrBookLen(); addrs != 4 || eps != 4 {
		t.Fatalf("address book holds %d addresses and %d endpoints, want 4 and 4", addrs, eps)
	}
	for _, p := range peers {
		p.Close()
		waitFor(t, "the connection to go", func() bool { return a.pool.lookupConn(p.NodeID()) == nil })
	}

	addrs, eps := a.pool.addrBookLen()
	a.pool.prune(time.Now())
	kept, keptEps := a.pool.addrBookLen()
	a.pool.prune(time.Now().Add(learnedAddrTTL))
	left, leftEps := a.pool.addrBookLen()

	// peers[0] and peers[1] went first: over maxGone, they are forgotten.
	if addrs != 2 || eps != 2 {
		t.Errorf("with every peer gone: %d addresses and %d endpoints, want 2 (peers[2]'s learned, peers[3]'s static) and 2", addrs, eps)
	}
	if kept != addrs || keptEps != eps {
		t.Errorf("pruned before learnedAddrTTL: %d addresses and %d endpoints left of %d and %d", kept, keptEps, addrs, eps)
	}
	if left != 1 || leftEps != 0 {
		t.Errorf("after learnedAddrTTL: %d addresses and %d endpoints, want only the static address", left, leftEps)
	}
	err := a.Send(ctx, Outbound{Target: Target{NodeID: peers[2].NodeID()}, Type: "t"})
	if !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("send to a forgotten node: %v, want ErrUnknownPeer", err)
	}
}
