package connector

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// blockingPeer starts a node whose handler holds every message until
// release is closed, so nothing it is sent is acknowledged until then.
func blockingPeer(t *testing.T) (c *Connector, arrived <-chan struct{}, release chan struct{}) {
	t.Helper()
	in := make(chan struct{}, 16)
	release = make(chan struct{})
	c = newNode(t, Config{}, newIdentity(t), HandlerFunc(func(ctx context.Context, _ *Message) (*Response, error) {
		in <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, nil
	}))
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c, in, release
}

// TestTimedOutSendLetsGo: a send whose deadline passes while its frame
// waits for the peer's acknowledgement is told so and its done function
// dropped; the frame keeps its queue space until it is acknowledged.
func TestTimedOutSendLetsGo(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, arrived, release := blockingPeer(t)
	ctx := testCtx(t)
	done := make(chan error, 1)
	a.SendAsync(ctx, Outbound{Target: targetOf(b), Type: "t", Payload: make([]byte, 1000), Timeout: 100 * time.Millisecond},
		func(r Result) { done <- r.Err })
	<-arrived

	err := <-done
	pc := a.pool.lookupConn(b.NodeID())
	pc.out.mu.Lock()
	waiting, held := len(pc.out.pending), slices.ContainsFunc(pc.out.pending, func(p pending) bool { return p.done != nil })
	pc.out.mu.Unlock()
	queued := a.Stats().QueuedBytes
	close(release)
	waitFor(t, "the acknowledgement", func() bool { return a.Stats().QueuedBytes == 0 })

	if !errors.Is(err, ErrTimeout) {
		t.Errorf("send ended with %v, want ErrTimeout", err)
	}
	if waiting != 1 || held {
		t.Errorf("after the timeout, %d frames wait, holding their done function: %v; want 1, not holding it", waiting, held)
	}
	if queued != 1000+queuedOverhead {
		t.Errorf("queued bytes after the timeout = %d, want %d until the acknowledgement", queued, 1000+queuedOverhead)
	}
}

// TestSlowPeerCutOff: a peer that leaves a frame unacknowledged for
// AckTimeout loses its connection, and the send waiting learns why.
func TestSlowPeerCutOff(t *testing.T) {
	const ackTimeout = 300 * time.Millisecond
	a, _ := startNode(t, Config{AckTimeout: ackTimeout})
	b, _, release := blockingPeer(t)
	defer close(release)
	start := time.Now()

	err := a.Send(testCtx(t), Outbound{Target: targetOf(b), Type: "t", Timeout: 5 * time.Second})
	took := time.Since(start)

	if !errors.Is(err, ErrSlowPeer) || !errors.Is(err, ErrDeliveryUnknown) {
		t.Errorf("send ended with %v, want ErrSlowPeer and ErrDeliveryUnknown", err)
	}
	if took < ackTimeout || took > 5*ackTimeout {
		t.Errorf("send ended after %v, want between AckTimeout %v and 5 times it", took, ackTimeout)
	}
	if got := a.Stats().SlowPeers; got != 1 {
		t.Errorf("SlowPeers = %d, want 1", got)
	}
	waitFor(t, "the connection to close", func() bool { return a.pool.lookupConn(b.NodeID()) == nil })
}
