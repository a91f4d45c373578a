package connector

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"
)

// idleRequestStreams counts the idle request streams a's connection to b
// keeps.
func idleRequestStreams(t *testing.T, a, b *Connector) int {
	t.Helper()
	pc, _ := a.pool.lookup(Target{NodeID: b.NodeID()})
	if pc == nil {
		t.Fatal("no pooled connection")
	}
	pc.reqs.mu.Lock()
	defer pc.reqs.mu.Unlock()
	return len(pc.reqs.idle)
}

// TestRequestStreamsReused: sequential requests share one stream, and a
// burst of concurrent ones leaves at most maxIdleRequestStreams idle.
func TestRequestStreamsReused(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, _ := startNode(t, Config{})
	ctx := testCtx(t)
	for i := range 20 {
		want := fmt.Appendf(nil, "sequential %d", i)
		if r, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "echo", Payload: want}); err != nil || !bytes.Equal(r.Payload, want) {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n := idleRequestStreams(t, a, b); n != 1 {
		t.Fatalf("%d idle request streams after sequential requests, want 1", n)
	}
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			want := fmt.Appendf(nil, "concurrent %d", i)
			if r, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "echo", Payload: want}); err != nil || !bytes.Equal(r.Payload, want) {
				t.Errorf("request %d: %+v, %v", i, r, err)
			}
		})
	}
	wg.Wait()
	if n := idleRequestStreams(t, a, b); n < 1 || n > maxIdleRequestStreams {
		t.Fatalf("%d idle request streams after a burst, want 1 to %d", n, maxIdleRequestStreams)
	}
}

// TestRequestAfterIdleStreamBroke: an idle request stream the peer reset
// is replaced, and the request goes through.
func TestRequestAfterIdleStreamBroke(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, _ := startNode(t, Config{})
	ctx := testCtx(t)
	if _, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "echo", Payload: []byte("first")}); err != nil {
		t.Fatal(err)
	}
	pc, _ := a.pool.lookup(Target{NodeID: b.NodeID()})
	rs := pc.reqs.get()
	rs.abort()
	pc.reqs.put(rs, a.now())
	r, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "echo", Payload: []byte("second")})
	if err != nil || string(r.Payload) != "second" {
		t.Fatalf("request after a broken idle stream: %+v, %v", r, err)
	}
}

// ackReader reports the stream a's ack reader serves on its connection to
// b, nil if none runs.
func ackReader(a, b *Connector) any {
	pc, _ := a.pool.lookup(Target{NodeID: b.NodeID()})
	if pc == nil {
		return nil
	}
	pc.out.mu.Lock()
	defer pc.out.mu.Unlock()
	if pc.out.reader == nil {
		return nil
	}
	return pc.out.reader
}

// TestAckReaderLeavesWhenIdle: with nothing to acknowledge the ack reader
// ends and the message stream closes, and the next messages open another
// and are acknowledged.
func TestAckReaderLeavesWhenIdle(t *testing.T) {
	a := newNode(t, Config{}, newIdentity(t), echoHandler(nil))
	a.ackIdle = 5 * time.Millisecond
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	b, got := startNode(t, Config{})
	ctx := testCtx(t)
	for round := range 3 {
		for i := range 50 {
			if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "x", Payload: fmt.Appendf(nil, "%d.%d", round, i)}); err != nil {
				t.Fatalf("round %d, send %d: %v", round, i, err)
			}
			recv(t, got)
		}
		waitFor(t, "the ack reader to leave", func() bool { return ackReader(a, b) == nil })
	}
	if s := a.Stats(); s.Dials != 1 {
		t.Fatalf("stats %+v, want one dial for all rounds", s)
	}
}

// TestIdleRequestStreamsClose: request streams kept for reuse are closed once
// they have been idle for a while, and the next request opens a new one.
func TestIdleRequestStreamsClose(t *testing.T) {
	a := newNode(t, Config{}, newIdentity(t), echoHandler(nil))
	a.ackIdle = 5 * time.Millisecond
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	b, _ := startNode(t, Config{})
	ctx := testCtx(t)
	for round := range 3 {
		r, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "echo", Payload: []byte("ping")})
		if err != nil || string(r.Payload) != "ping" {
			t.Fatalf("round %d: %+v, %v", round, r, err)
		}
		pc, _ := a.pool.lookup(Target{NodeID: b.NodeID()})
		waitFor(t, "idle request streams to close", func() bool {
			pc.reqs.mu.Lock()
			defer pc.reqs.mu.Unlock()
			return len(pc.reqs.idle) == 0
		})
	}
	if s := a.Stats(); s.Dials != 1 {
		t.Fatalf("stats %+v, want one dial for all rounds", s)
	}
}
