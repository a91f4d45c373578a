package hostile

import (
	"runtime"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/codec"
	"github.com/peerbridge/peerbridge/connector"
)

// TestAttackPartialFrames is issue 9 point 1: streams that announce
// maximum-size frames and send a little of each. The victim's frame memory
// stays within its budget, every stream is answered (503 when there is no
// memory for it, 504 when its frame is late), a legitimate request is
// answered during the attack, and everything is given back.
func TestAttackPartialFrames(t *testing.T) {
	const (
		conns   = 4
		streams = 200 // per connection, under MaxStreams
		budget  = 4 << 20
		prefix  = 20 // streams that stall inside a length prefix
	)
	cfg := connector.Config{ConnFrameBudget: 2 << 20, FrameBudget: budget, FrameTimeout: 2 * time.Second}
	victim := startConnector(t, "127.0.0.1", cfg, echo)
	legit := startConnector(t, "127.0.0.1", connector.Config{}, nil)
	ctx := testCtx(t)
	if _, err := legit.Request(ctx, connector.Outbound{Target: targetOf(victim), Type: "echo", Payload: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	var as []*attacker
	for i := range conns {
		as = append(as, newAttacker(t, "127.0.0."+string(rune('2'+i))))
	}
	g0, heap0 := runtime.NumGoroutine(), heapInuse()

	size := uint32(codec.MaxFrameSize(codec.DefaultMaxPayload))
	var got answers
	var qcs []*quic.Conn
	for _, a := range as {
		qc, err := a.dial(ctx, t, victim)
		if err != nil {
			t.Fatal(err)
		}
		qcs = append(qcs, qc)
		for range streams {
			st, err := qc.OpenStreamSync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Write(partialFrame(size, 1024)); err != nil {
				t.Fatal(err)
			}
			got.await(st)
		}
	}
	for range prefix {
		st, err := qcs[0].OpenStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Write([]byte{0, 0}); err != nil {
			t.Fatal(err)
		}
		got.await(st)
	}
	// Streams without memory are refused at once; the rest hold memory
	// until their deadline. A stalled frame holds at least 16 KiB (the
	// codec's first chunk is 64 KiB), so at most budget/16 KiB streams get
	// memory.
	waitFor(t, "the streams over budget to be refused", func() bool {
		return victim.Stats().FrameBudgetRefusals >= conns*streams-budget/(16<<10)
	})
	heapDuring := heapInuse()
	r, err := legit.Request(ctx, connector.Outbound{Target: targetOf(victim), Type: "echo", Payload: []byte("during")})
	if err != nil || string(r.Payload) != "during" {
		t.Fatalf("legitimate request during the attack: %v", err)
	}

	codes := got.wait()
	s := victim.Stats()
	t.Logf("%d partial max-size frames and %d partial length prefixes: answers by code %v, heap +%s during the attack, stats %+v",
		conns*streams, prefix, codes, mib(heapDuring-heap0), s)
	if codes[connector.CodeUnavailable]+codes[connector.CodeTimeout] != conns*streams+prefix {
		t.Errorf("answers by code %v, want 503 or 504 for every one of %d streams", codes, conns*streams+prefix)
	}
	if s.FrameBytesPeak > budget || s.FrameBytes != 0 {
		t.Errorf("frame memory peaked at %d of a budget of %d, holds %d after the attack", s.FrameBytesPeak, budget, s.FrameBytes)
	}
	if uint64(codes[connector.CodeUnavailable]) != s.FrameBudgetRefusals || uint64(codes[connector.CodeTimeout]) != s.FrameDeadlineResets {
		t.Errorf("answers %v do not match the counted refusals %d and resets %d", codes, s.FrameBudgetRefusals, s.FrameDeadlineResets)
	}
	// On main this attack took the heap 1.1 MB per stream (433 MiB for
	// 400 streams); a generous bound that cannot flake.
	if grew := heapDuring - min(heapDuring, heap0); grew > 64<<20 {
		t.Errorf("heap grew by %s during the attack", mib(grew))
	}
	for _, qc := range qcs {
		qc.CloseWithError(0, "")
	}
	for _, a := range as {
		a.close()
	}
	waitGoroutines(t, g0)
}

// TestAttackPingsDoNotHoldConnection: a connection that only pings is
// closed once it has been idle for the victim's IdleTimeout, as is one whose
// only activity is a stalled frame.
func TestAttackPingsDoNotHoldConnection(t *testing.T) {
	victim := startConnector(t, "127.0.0.1", connector.Config{IdleTimeout: 300 * time.Millisecond, FrameTimeout: time.Minute}, echo)
	ctx := testCtx(t)
	a := newAttacker(t, "127.0.0.2")
	pinger, err := a.dial(ctx, t, victim)
	if err != nil {
		t.Fatal(err)
	}
	staller, err := a.dial(ctx, t, victim)
	if err != nil {
		t.Fatal(err)
	}
	st, err := staller.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.Write(partialFrame(1<<20, 100))
	pings, err := pinger.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 { // 50 s at most; the victim closes it long before
		if pinger.Context().Err() != nil {
			break
		}
		if _, err := pings.Write(encode(t, &codec.Frame{Kind: codec.KindPing, ID: uint64(i + 1)})); err != nil {
			break
		}
		select {
		case <-pinger.Context().Done():
		case <-time.After(50 * time.Millisecond): // the attacker's ping rate
		}
	}
	for name, qc := range map[string]*quic.Conn{"pinging": pinger, "stalled": staller} {
		select {
		case <-qc.Context().Done():
		case <-ctx.Done():
			t.Fatalf("the %s connection is still open", name)
		}
	}
	if s := victim.Stats(); s.Evictions != 2 {
		t.Errorf("stats %+v, want 2 idle connections closed", s)
	}
}
