package fleet_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/fleet"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
)

// member joins a fleet on ns whose asks h answers, counting them in asked.
func member(t *testing.T, ns *server.Server, stall time.Duration, name string, asked *atomic.Int32) *fleet.Fleet {
	t.Helper()
	nc, err := nats.Connect(ns.ClientURL(), fleet.ConnOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	f := fleet.New(nc, fleet.Config{GatherStall: stall}, nil)
	err = f.Serve(func(context.Context, identity.NodeID, string, []byte) ([]byte, error) {
		asked.Add(1)
		return []byte(name), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(); nc.Close() })
	return f
}

// TestAskAll: an ask of every holder of a node reaches every gateway that
// announced it but the asker itself (its connection does not echo), stops
// when the caller has enough, and returns at once, without waiting out
// the stall, when no other gateway holds the node.
func TestAskAll(t *testing.T) {
	ns := natpunchtest.StartNATS(t)
	const stall = time.Minute // longer than the test's deadline: only a 503 or enough ends an ask early
	var askedA, askedB, askedC atomic.Int32
	a, b, c := member(t, ns, stall, "a", &askedA), member(t, ns, stall, "b", &askedB), member(t, ns, stall, "c", &askedC)
	node, alone := nodeID(t), nodeID(t)
	for _, f := range []*fleet.Fleet{a, b, c} {
		f.Announce(node)
	}
	a.Announce(alone)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for _, f := range []*fleet.Fleet{a, b, c} {
		if err := f.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}

	var got []string
	err := a.AskAll(ctx, node, "holders", nil, func(b []byte) bool {
		got = append(got, string(b))
		return len(got) < 2
	})
	if err != nil || len(got) != 2 || askedA.Load() != 0 {
		t.Fatalf("ask of every holder but the asker: %v, answers %q, the asker asked %d times", err, got, askedA.Load())
	}
	if err := a.AskAll(ctx, alone, "holders", nil, func([]byte) bool { t.Error("an answer for a node only the asker holds"); return true }); err != nil {
		t.Fatalf("ask about a node no other gateway holds: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the asks waited out the deadline")
	}
}

func nodeID(t *testing.T) identity.NodeID {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return id.NodeID()
}
