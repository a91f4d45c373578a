package hostile

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/codec"
	"github.com/peerbridge/peerbridge/connector"
)

// TestAttackSlowRequests is issue 9 point 7: requests asking for 24 hours
// each, to a handler that never answers. The victim serves each for its own
// DefaultTimeout at most, answers those over its in-flight limits 503 at
// once, answers every request, and a legitimate request is answered during
// the attack.
func TestAttackSlowRequests(t *testing.T) {
	const (
		keys, perKey        = 3, 60
		maxReqs, maxPerPeer = 50, 15
		timeout             = 2 * time.Second
	)
	cfg := connector.Config{DefaultTimeout: timeout, MaxInboundRequests: maxReqs, MaxInboundRequestsPerPeer: maxPerPeer}
	victim := startConnector(t, "127.0.0.1", cfg, connector.HandlerFunc(
		func(ctx context.Context, m *connector.Message) (*connector.Response, error) {
			if m.Type == "echo" {
				return &connector.Response{Payload: m.Payload}, nil
			}
			<-ctx.Done() // a silent responder
			return nil, ctx.Err()
		}))
	legit := startConnector(t, "127.0.0.1", connector.Config{}, nil)
	ctx := testCtx(t)
	if _, err := legit.Request(ctx, connector.Outbound{Target: targetOf(victim), Type: "echo", Payload: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	var as []*attacker
	for i := range keys {
		as = append(as, newAttacker(t, fmt.Sprintf("127.0.0.%d", 2+i)))
	}
	g0 := runtime.NumGoroutine()

	req := encode(t, &codec.Frame{Kind: codec.KindRequest, ID: 1, Type: "silent", Timeout: 24 * time.Hour})
	var got answers
	for _, a := range as {
		qc, err := a.dial(ctx, t, victim)
		if err != nil {
			t.Fatal(err)
		}
		for range perKey {
			st, err := qc.OpenStreamSync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Write(req); err != nil {
				t.Fatal(err)
			}
			got.await(st)
		}
	}
	waitFor(t, "the requests over the limits to be refused", func() bool {
		return victim.Stats().RefusedRequests >= keys*(perKey-maxPerPeer)
	})
	if s := victim.Stats(); s.InboundRequests > maxReqs {
		t.Errorf("%d inbound requests in flight, over the limit of %d", s.InboundRequests, maxReqs)
	}
	r, err := legit.Request(ctx, connector.Outbound{Target: targetOf(victim), Type: "echo", Payload: []byte("during")})
	if err != nil || string(r.Payload) != "during" {
		t.Fatalf("legitimate request during the attack: %v", err)
	}

	codes := got.wait()
	s := victim.Stats()
	t.Logf("%d requests asking for 24 h: answers by code %v, stats %+v", keys*perKey, codes, s)
	if codes[connector.CodeUnavailable]+codes[connector.CodeTimeout] != keys*perKey {
		t.Errorf("answers by code %v, want 503 or 504 for every one of %d requests", codes, keys*perKey)
	}
	if uint64(codes[connector.CodeUnavailable]) != s.RefusedRequests || codes[connector.CodeTimeout] > keys*maxPerPeer*2 {
		t.Errorf("answers by code %v with %d refusals counted: want a 503 for each refusal, and 504s only for the admitted", codes, s.RefusedRequests)
	}
	for _, a := range as {
		a.close()
	}
	// Every request ended at the victim's timeout, not the sender's 24 h.
	waitGoroutines(t, g0)
	if s := victim.Stats(); s.InboundRequests != 0 {
		t.Errorf("%d inbound requests still in flight", s.InboundRequests)
	}
}

// TestAttackLargeSlowRequests: requests with maximum-size payloads to a
// handler that never answers hold no more payload than the victim's
// MaxInboundRequestBytes; the rest are answered 503 at once, and small
// requests are still served.
func TestAttackLargeSlowRequests(t *testing.T) {
	const (
		streams = 16
		budget  = 4 << 20
	)
	cfg := connector.Config{DefaultTimeout: 2 * time.Second, MaxInboundRequestBytes: budget}
	victim := startConnector(t, "127.0.0.1", cfg, connector.HandlerFunc(
		func(ctx context.Context, m *connector.Message) (*connector.Response, error) {
			if m.Type == "echo" {
				return &connector.Response{Payload: m.Payload}, nil
			}
			<-ctx.Done() // a silent responder
			return nil, ctx.Err()
		}))
	legit := startConnector(t, "127.0.0.1", connector.Config{}, nil)
	ctx := testCtx(t)
	if _, err := legit.Request(ctx, connector.Outbound{Target: targetOf(victim), Type: "echo", Payload: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	a := newAttacker(t, "127.0.0.2")
	g0 := runtime.NumGoroutine()

	req := encode(t, &codec.Frame{Kind: codec.KindRequest, ID: 1, Type: "silent", Timeout: 24 * time.Hour,
		Payload: make([]byte, codec.DefaultMaxPayload)})
	qc, err := a.dial(ctx, t, victim)
	if err != nil {
		t.Fatal(err)
	}
	var got answers
	var writes sync.WaitGroup // the attacker's writes, which end with its connection at the latest
	for range streams {
		st, err := qc.OpenStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got.await(st)
		writes.Go(func() { st.Write(req) })
	}
	waitFor(t, "the victim to hold as many large requests as it admits", func() bool {
		return victim.Stats().InboundRequestBytes > budget-codec.DefaultMaxPayload
	})
	if r, err := legit.Request(ctx, connector.Outbound{Target: targetOf(victim), Type: "echo", Payload: []byte("during")}); err != nil || string(r.Payload) != "during" {
		t.Fatalf("legitimate request during the attack: %v", err)
	}
	codes := got.wait()
	s := victim.Stats()
	t.Logf("%d requests of 1 MiB asking for 24 h: answers by code %v, stats %+v", streams, codes, s)
	if codes[connector.CodeUnavailable]+codes[connector.CodeTimeout] != streams {
		t.Errorf("answers by code %v, want 503 or 504 for every one of %d requests", codes, streams)
	}
	if s.InboundRequestBytesPeak > budget || s.FrameBytesPeak > 64<<20 {
		t.Errorf("request payloads peaked at %d of %d bytes, frames at %d", s.InboundRequestBytesPeak, budget, s.FrameBytesPeak)
	}
	a.close()
	writes.Wait()
	waitGoroutines(t, g0)
}
