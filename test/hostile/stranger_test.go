package hostile

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/membership"
)

// TestStrangerFloodAgainstAClosedBridge is issue 19's hostile test: 300
// fresh keys dial a bridge that accepts one node only. Each is refused in
// its TLS handshake, before any stream: the bridge ends up holding no
// peer, no connection slot, no goroutine and no memory for them, and every
// refusal is counted. The cost of a refused handshake is measured against
// an accepted handshake and one request, in the same run.
func TestStrangerFloodAgainstAClosedBridge(t *testing.T) {
	const strangers = 300
	policy, err := membership.New(membership.Config{Allow: []membership.Allow{{Node: newIdentity(t).NodeID()}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	closed := connectortest.StartAs(t, connector.Config{}, newIdentity(t).WithPolicy(policy.Check), connectortest.Accepting())
	open := connectortest.Start(t, connector.Config{}, connectortest.Accepting())
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	baseG := runtime.NumGoroutine()
	baseHeap := natHeap()

	refused, took := flood(ctx, t, closed, strangers)
	// An accepted handshake and one request, the same number of times.
	_, tookOpen := flood(ctx, t, open, strangers)

	settled := natWaitFor(func() bool {
		st := closed.Stats()
		return st.InboundConns == 0 && runtime.NumGoroutine() <= baseG+10
	}, 15*time.Second)
	heap := natHeap()
	st := policy.Stats()
	t.Logf("%d strangers: %d refused in the handshake in %v (%v each); %d accepted handshakes and requests on an open bridge took %v (%v each), ratio %.2f; policy %+v; goroutines %d -> %d; heap %.1f -> %.1f MB",
		strangers, refused, took, took/strangers, strangers, tookOpen, tookOpen/strangers, float64(took)/float64(tookOpen), st, baseG, runtime.NumGoroutine(), mb(baseHeap), mb(heap))
	if refused != strangers || st.Refused != strangers || st.Accepted != 0 {
		t.Errorf("%d of %d strangers refused, policy %+v", refused, strangers, st)
	}
	if n := len(closed.Peers()); n != 0 {
		t.Errorf("the closed bridge holds %d peers", n)
	}
	if !settled {
		t.Errorf("the closed bridge still holds %d connection slots, goroutines %d (baseline %d)", closed.Stats().InboundConns, runtime.NumGoroutine(), baseG)
	}
	if heap > baseHeap+16<<20 {
		t.Errorf("heap %.1f MB after the flood, baseline %.1f MB", mb(heap), mb(baseHeap))
	}
}

// flood has n fresh keys, eight at a time, each dial victim and make one
// request; it returns how many were refused by the victim and how long
// it all took.
func flood(ctx context.Context, t *testing.T, victim *connector.Connector, n int) (refused int, took time.Duration) {
	ids := make([]*identity.Identity, n) // keys are made before the clock starts
	for i := range ids {
		ids[i] = newIdentity(t)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	began := time.Now()
	for _, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := connector.New(connector.Config{}, id, nil)
			if err == nil {
				err = c.Start(ctx)
			}
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			_, err = c.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: victim.NodeID(), Endpoint: victim.Addr().String()}, Type: "x"})
			if errors.Is(err, connector.ErrRefusedByPeer) {
				mu.Lock()
				refused++
				mu.Unlock()
			} else if err != nil {
				t.Errorf("a request: %v", err)
			}
		})
	}
	wg.Wait()
	return refused, time.Since(began)
}
