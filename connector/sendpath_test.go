package connector

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/peerbridge/peerbridge/codec"
)

// TestDeadPeerDelaysOnlyItself: with messages queued for a peer that drops
// every packet, messages to a pooled peer are all acknowledged before any
// of the dead peer's is resolved.
func TestDeadPeerDelaysOnlyItself(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, _ := startNode(t, Config{})
	ctx := testCtx(t)
	if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "warm"}); err != nil {
		t.Fatal(err)
	}
	dead := Target{NodeID: newIdentity(t).NodeID(), Endpoint: blackHole(t)}
	var (
		mu       sync.Mutex // guards deadDone
		deadDone int
	)
	deadErrs := make(chan error, 20)
	for range 20 {
		a.SendAsync(ctx, Outbound{Target: dead, Type: "x"}, func(r Result) {
			mu.Lock()
			deadDone++
			mu.Unlock()
			deadErrs <- r.Err
		})
	}
	for i := range 50 {
		if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "x", Payload: []byte{byte(i)}}); err != nil {
			t.Fatalf("send %d to the healthy peer: %v", i, err)
		}
	}
	mu.Lock()
	resolved := deadDone
	mu.Unlock()
	if resolved != 0 {
		t.Errorf("%d of the dead peer's messages resolved before the healthy peer's 50 were acknowledged", resolved)
	}
	for range 20 {
		if err := <-deadErrs; !errors.Is(err, ErrUnreachable) {
			t.Errorf("message to a black hole: %v, want ErrUnreachable", err)
		}
	}
}

// TestQueueBounds: a full queue, or a full queue table, refuses at once
// with ErrBusy, and the refusals are counted.
func TestQueueBounds(t *testing.T) {
	a, _ := startNode(t, Config{MaxQueue: 1, MaxQueues: 1})
	ctx := testCtx(t)
	dead := Target{Endpoint: blackHole(t)}
	results := make(chan Result, 4)
	for range 3 {
		a.SendAsync(ctx, Outbound{Target: dead, Type: "x"}, func(r Result) { results <- r })
	}
	other := Target{Endpoint: blackHole(t)}
	if err := a.Send(ctx, Outbound{Target: other, Type: "x"}); !errors.Is(err, ErrBusy) {
		t.Errorf("send to a second peer with a table of one queue: %v, want ErrBusy", err)
	}
	busy := 0
	for range 3 {
		if r := <-results; errors.Is(r.Err, ErrBusy) {
			busy++
		}
	}
	if busy == 0 || a.Stats().Busy != uint64(busy)+1 {
		t.Errorf("%d of 3 sends to a queue of one refused, %d counted; want at least one, all counted", busy, a.Stats().Busy)
	}
}

// TestEndpointHintIsOnlyAHint: an endpoint where another node answers
// fails that message and is not remembered; a pooled connection is used
// whatever the hint, and the reply says where it came from.
func TestEndpointHintIsOnlyAHint(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, _ := startNode(t, Config{})
	c, _ := startNode(t, Config{})
	ctx := testCtx(t)
	wrong := Outbound{Target: Target{NodeID: b.NodeID(), Endpoint: c.Addr().String()}, Type: "echo"}
	if _, err := a.Request(ctx, wrong); !errors.Is(err, ErrIdentityMismatch) {
		t.Fatalf("hint at another node: %v, want ErrIdentityMismatch", err)
	}
	if _, err := a.Request(ctx, Outbound{Target: Target{NodeID: b.NodeID()}, Type: "echo"}); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("by ID after a wrong hint: %v, want ErrUnknownPeer (nothing learned)", err)
	}
	a.AddAddress(b.NodeID(), b.Addr().String())
	if _, err := a.Request(ctx, wrong); !errors.Is(err, ErrIdentityMismatch) {
		t.Fatalf("hint at another node, static address known: %v, want ErrIdentityMismatch", err)
	}
	r, err := a.Request(ctx, Outbound{Target: Target{NodeID: b.NodeID()}, Type: "echo"})
	if err != nil || r.Remote != b.Addr() {
		t.Fatalf("by ID with a static address: %+v, %v", r, err)
	}
	r, err = a.Request(ctx, wrong)
	if err != nil || !r.Reused || r.Remote != b.Addr() {
		t.Fatalf("wrong hint with a pooled connection: %+v, %v; want the pooled one, from %s", r, err, b.Addr())
	}
}

// TestShutdownFinishesRequestsAndSaysGoodbye: a connector shutting down
// tells its peer, which opens nothing new on the connection, and the
// requests in flight both ways get their whole replies before it closes.
func TestShutdownFinishesRequestsAndSaysGoodbye(t *testing.T) {
	big := bytes.Repeat([]byte("r"), 64<<10)
	arrived := make(chan struct{}, 2)
	release := make(chan struct{})
	slow := HandlerFunc(func(ctx context.Context, m *Message) (*Response, error) {
		if m.Type == "slow" {
			arrived <- struct{}{}
			<-release
			return &Response{Payload: big}, nil
		}
		return &Response{Payload: m.Payload}, nil
	})
	a := newNode(t, Config{}, newIdentity(t), slow)
	b := newNode(t, Config{}, newIdentity(t), slow)
	for _, n := range []*Connector{a, b} {
		if err := n.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	ctx := testCtx(t)
	replies := make(chan error, 2)
	for _, pair := range [][2]*Connector{{a, b}, {b, a}} {
		go func() {
			r, err := pair[0].Request(ctx, Outbound{Target: targetOf(pair[1]), Type: "slow"})
			if err == nil && !bytes.Equal(r.Payload, big) {
				err = errors.New("reply cut short")
			}
			replies <- err
		}()
		<-arrived
	}
	stopped := make(chan error, 1)
	go func() { stopped <- b.Shutdown(ctx) }()
	waitFor(t, "a to learn that b is going away", func() bool {
		_, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "echo"})
		return errors.Is(err, ErrGoingAway)
	})
	close(release)
	for range 2 {
		if err := <-replies; err != nil {
			t.Errorf("request in flight during shutdown: %v", err)
		}
	}
	if err := <-stopped; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// TestBatchSkipsAFrameItCannotEncode: a message that cannot be encoded
// fails alone; the others in its batch go out.
func TestBatchSkipsAFrameItCannotEncode(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, got := startNode(t, Config{})
	ctx := testCtx(t)
	results := make(chan Result, 3)
	bad := Outbound{Target: targetOf(b), Type: string(make([]byte, codec.MaxEnvelope+1))}
	for _, o := range []Outbound{{Target: targetOf(b), Type: "one"}, bad, {Target: targetOf(b), Type: "two"}} {
		a.SendAsync(ctx, o, func(r Result) { results <- r })
	}
	failed := 0
	for range 3 {
		if r := <-results; r.Err != nil {
			failed++
		}
	}
	if failed != 1 || recv(t, got).Type != "one" || recv(t, got).Type != "two" {
		t.Errorf("%d of 3 failed, want the one that cannot be encoded", failed)
	}
}
