package connector

import (
	"errors"
	"testing"
)

// TestPerPeerByteBudget: a peer that acknowledges nothing can hold only
// its own budget, MaxQueuedBytesPerPeer: past it sends to that peer fail
// at once with ErrBusy, while another peer is served; once the peer
// acknowledges, its budget is free again and its sends go through.
func TestPerPeerByteBudget(t *testing.T) {
	const size, room = 1000, 4
	a, _ := startNode(t, Config{MaxQueuedBytesPerPeer: room * (size + queuedOverhead)})
	slow, arrived, release := blockingPeer(t)
	other, _ := startNode(t, Config{})
	ctx := testCtx(t)

	results := make(chan error, 2*room)
	for range 2 * room {
		a.SendAsync(ctx, Outbound{Target: targetOf(slow), Type: "t", Payload: make([]byte, size)}, func(r Result) { results <- r.Err })
	}
	<-arrived // the first holds the peer's handler: none is acknowledged
	busy := 0
	for range room {
		if err := <-results; !errors.Is(err, ErrBusy) {
			t.Fatalf("send past the peer's budget: %v, want ErrBusy", err)
		}
		busy++
	}
	if err := a.Send(ctx, Outbound{Target: targetOf(other), Type: "t", Payload: make([]byte, size)}); err != nil {
		t.Errorf("send to another peer while one's budget is full: %v", err)
	}
	if got := a.Stats().QueuedBytes; got != room*(size+queuedOverhead) {
		t.Errorf("queued bytes = %d, want the slow peer's full budget %d", got, room*(size+queuedOverhead))
	}

	close(release)
	for range room {
		if err := <-results; err != nil {
			t.Errorf("send within the budget: %v", err)
		}
	}
	if err := a.Send(ctx, Outbound{Target: targetOf(slow), Type: "t", Payload: make([]byte, size)}); err != nil {
		t.Errorf("send once the peer acknowledged: %v", err)
	}
	if busy != room || a.Stats().Busy != room {
		t.Errorf("%d sends busy, Stats.Busy %d, want %d", busy, a.Stats().Busy, room)
	}
}

// TestCostCountsHeaders: a message is counted for its payload, its
// headers and the fixed overhead.
func TestCostCountsHeaders(t *testing.T) {
	q := queued{payload: make([]byte, 10), headers: map[string][]string{"Key": {"a", "bc"}}}
	if got, want := q.cost(), 10+3+1+2+queuedOverhead; got != want {
		t.Errorf("cost = %d, want %d", got, want)
	}
}

// TestQueueBudgetDefaults: the per-peer budget defaults to 256 MiB, or to
// half the total if that is set lower, so no one peer can take it all.
func TestQueueBudgetDefaults(t *testing.T) {
	for _, tc := range []struct {
		total, perPeer         int
		wantTotal, wantPerPeer int
	}{
		{0, 0, 512 << 20, 256 << 20},
		{1 << 20, 0, 1 << 20, 512 << 10},
		{1 << 20, 1 << 20, 1 << 20, 1 << 20},
		{0, 64 << 20, 512 << 20, 64 << 20},
	} {
		c := Config{MaxQueuedBytes: tc.total, MaxQueuedBytesPerPeer: tc.perPeer}
		c.populate()
		if c.MaxQueuedBytes != tc.wantTotal || c.MaxQueuedBytesPerPeer != tc.wantPerPeer {
			t.Errorf("total %d, per peer %d: got %d, %d; want %d, %d", tc.total, tc.perPeer,
				c.MaxQueuedBytes, c.MaxQueuedBytesPerPeer, tc.wantTotal, tc.wantPerPeer)
		}
	}
}
