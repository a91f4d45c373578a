package connector

import (
	"errors"
	"testing"
	"time"
)

func TestSendMany(t *testing.T) {
	const peers = 20
	a, _ := startNode(t, Config{})
	bs := startNodes(t, peers, Config{})
	ts := make([]Target, peers)
	for i, b := range bs {
		ts[i] = targetOf(b)
		if i%2 == 1 {
			ts[i] = Target{Endpoint: b.Addr().String()}
		}
	}
	rs := a.SendMany(testCtx(t), ts, Outbound{Type: "x", Payload: []byte("to all")})
	if len(rs) != peers {
		t.Fatalf("%d results, want %d", len(rs), peers)
	}
	for i, r := range rs {
		if r.Err != nil || r.Target != ts[i] || r.NodeID != bs[i].NodeID() {
			t.Errorf("result %d: %+v, want node %s", i, r, bs[i].NodeID().Short())
		}
	}
	if s := a.Stats(); s.Dials != peers {
		t.Fatalf("stats %+v", s)
	}
}

// TestSendManyPartialFailure: one unreachable target fails alone.
func TestSendManyPartialFailure(t *testing.T) {
	a, _ := startNode(t, Config{DialTimeout: 300 * time.Millisecond})
	bs := startNodes(t, 4, Config{})
	ts := []Target{targetOf(bs[0]), targetOf(bs[1]), {Endpoint: deadEndpoint(t)}, targetOf(bs[2]), targetOf(bs[3])}
	rs := a.SendMany(testCtx(t), ts, Outbound{Type: "x"})
	for i, r := range rs {
		if i == 2 {
			continue
		}
		if r.Err != nil || r.Target != ts[i] || r.NodeID != r.Target.NodeID {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	if r := rs[2]; (!errors.Is(r.Err, ErrUnreachable) && !errors.Is(r.Err, ErrTimeout)) || r.NodeID != "" {
		t.Errorf("unreachable target: %+v", r)
	}
}

func TestSendManyEmpty(t *testing.T) {
	a, _ := startNode(t, Config{})
	if rs := a.SendMany(testCtx(t), nil, Outbound{Type: "x"}); len(rs) != 0 {
		t.Fatalf("results %+v", rs)
	}
}
