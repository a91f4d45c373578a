package connector

import (
	"fmt"
	"testing"

	"github.com/peerbridge/peerbridge/codec"
)

// TestDirectAndQueuedSendsKeepOrder: on a warm connection, messages that
// find the stream idle are written by SendAsync itself and the ones behind
// them go through the queue; they arrive in the order sent all the same.
func TestDirectAndQueuedSendsKeepOrder(t *testing.T) {
	const rounds, burst = 50, 20
	a, _ := startNode(t, Config{})
	b, got := startNode(t, Config{})
	ctx := testCtx(t)
	if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "warm"}); err != nil {
		t.Fatal(err)
	}
	recv(t, got)
	acks := make(chan error, burst)
	for r := range rounds {
		for i := range burst { // the first finds the stream idle
			p := fmt.Appendf(nil, "%d", r*burst+i)
			a.SendAsync(ctx, Outbound{Target: targetOf(b), Type: "seq", Payload: p}, func(r Result) { acks <- r.Err })
		}
		for i := range burst {
			if m := recv(t, got); string(m.Payload) != fmt.Sprint(r*burst+i) {
				t.Fatalf("message %d has payload %q", r*burst+i, m.Payload)
			}
		}
		for range burst {
			if err := <-acks; err != nil {
				t.Fatalf("ack: %v", err)
			}
		}
	}
}

// TestDirectSendRefusedFrameFails: a frame sendDirect cannot encode goes
// to the queue, whose worker reports the refusal.
func TestDirectSendRefusedFrameFails(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, got := startNode(t, Config{})
	ctx := testCtx(t)
	if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "warm"}); err != nil {
		t.Fatal(err)
	}
	recv(t, got)
	bad := Outbound{Target: targetOf(b), Type: string(make([]byte, codec.MaxEnvelope+1))}
	if err := a.Send(ctx, bad); err == nil {
		t.Fatal("a frame that cannot be encoded was sent")
	}
	if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "after"}); err != nil {
		t.Fatalf("send after a refused frame: %v", err)
	}
}
