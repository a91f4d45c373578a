package connector

import (
	"bytes"
	"context"
	"testing"
	"time"
)

func TestSendAndRequest(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, got := startNode(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hdr := map[string][]string{"X-Trace": {"1", "2"}}
	if err := a.Send(ctx, targetOf(b), "dht_store", []byte("hello"), hdr); err != nil {
		t.Fatalf("send: %v", err)
	}
	m := <-got
	if m.From != a.NodeID() || m.Type != "dht_store" || string(m.Payload) != "hello" || len(m.Headers["X-Trace"]) != 2 {
		t.Fatalf("got %+v", m)
	}
	r, err := a.Request(ctx, Target{NodeID: b.NodeID()}, "echo", []byte("ping"), hdr)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if !bytes.Equal(r.Payload, []byte("ping")) || r.From != b.NodeID() || !r.Reused || r.Path != PathDirect {
		t.Fatalf("reply %+v", r)
	}
	if s := a.Stats(); s.Dials != 1 || s.PoolHits != 1 {
		t.Fatalf("stats %+v", s)
	}
}
