package natlab_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/natpunch/fleet"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
	"github.com/peerbridge/peerbridge/test/natlab"
)

// TestFleetAcrossNATs is issue 21, item 5: two gateways in a fleet on one
// NATS, each bridge registered at one of them only. A pair whose NATs can
// be punched is punched across the gateways, and keeps working once the
// first gateway is gone; a pair of symmetric NATs is relayed across them
// (its relay runs through the asker's gateway, so it needs that gateway).
func TestFleetAcrossNATs(t *testing.T) {
	lab := natlab.New(t)
	ns := natpunchtest.StartNATS(t) // the fleet's NATS, in this process's namespace
	join := func(g *gateway.Gateway) {
		nc, err := nats.Connect(ns.ClientURL(), append(fleet.ConnOptions(), nats.MaxReconnects(-1))...)
		if err != nil {
			t.Fatal(err)
		}
		f := fleet.New(nc, fleet.Config{}, testLog("fleet"))
		t.Cleanup(func() { f.Close(); nc.Close() })
		g.JoinFleet(f)
	}
	g1 := startGatewayWith(t, lab.AddPublicHost("gw1", 2), join)
	g2 := startGatewayWith(t, lab.AddPublicHost("gw2", 2), join)
	var punched [2]*peer
	for _, tc := range []struct {
		name     string
		kind     natlab.Kind
		wantPath string
	}{
		{"port-restricted", natlab.PortRestricted, "punched"},
		{"symmetric", natlab.Symmetric, "relayed"},
	} {
		a := startPeer(t, tc.name+"-a", lab.AddNAT(tc.name+"-na", tc.kind).AddHost(tc.name+"-ha"), peerConfig(g1))
		b := startPeer(t, tc.name+"-b", lab.AddNAT(tc.name+"-nb", tc.kind).AddHost(tc.name+"-hb"), peerConfig(g2))
		ctx, cancel := context.WithTimeout(t.Context(), firstReplyWait)
		got, err := a.ask(ctx, b, "across the fleet")
		cancel()
		if err != nil {
			t.Fatalf("%s: a (at gw1) to b (at gw2): %v", tc.name, err)
		}
		if got.path != tc.wantPath {
			t.Errorf("%s: a to b %s, want %s", tc.name, got.path, tc.wantPath)
		}
		t.Logf("%s: a (at gw1) to b (at gw2): %s in %v", tc.name, got.path, got.took.Round(time.Millisecond))
		if tc.wantPath == "punched" {
			punched = [2]*peer{a, b}
		}
	}
	if err := g1.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), firstReplyWait)
	defer cancel()
	if _, err := punched[0].ask(ctx, punched[1], "after gw1 is gone"); err != nil {
		t.Errorf("the punched pair after gw1 closed: %v", err)
	}
}
