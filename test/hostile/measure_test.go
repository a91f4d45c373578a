//go:build measure

package hostile

// Figures for the hostile-peer report, run on main and on the fix the same
// way (each in a process of its own, since they read the process's heap):
//
//	go test -tags measure -count=1 -run '^TestMeasureFrames$' -v ./test/hostile/
//	go test -tags measure -count=1 -run '^TestMeasureConns$' -v ./test/hostile/
//	go test -tags measure -count=1 -run '^TestMeasureRequests$' -v ./test/hostile/
//	go test -tags measure -count=1 -run '^TestMeasureNodeIDs$' -v ./test/hostile/
//	go test -tags measure -count=1 -run '^TestMeasureIdle$' -v ./test/hostile/
//	go test -tags measure -count=1 -run '^TestMeasureLargeRequests$' -v ./test/hostile/
//
// They use only the API that main has, and they log rather than assert.

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/codec"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// settle is how long a measurement lets the victim react before reading.
const settle = 3 * time.Second

// TestMeasureFrames: 400 streams over 4 connections, each announcing a
// maximum-size frame and sending 1 KiB of it.
func TestMeasureFrames(t *testing.T) {
	victim := startConnector(t, "127.0.0.1", connector.Config{}, nil)
	a := newAttacker(t, "127.0.0.2")
	ctx := testCtx(t)
	heap0, rss0, g0 := heapInuse(), rss(), runtime.NumGoroutine()
	size := uint32(codec.MaxFrameSize(codec.DefaultMaxPayload))
	var conns []*quic.Conn
	for range 4 {
		qc, err := a.dial(ctx, t, victim)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, qc)
		for range 100 {
			st, err := qc.OpenStreamSync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			st.Write(partialFrame(size, 1024))
		}
	}
	time.Sleep(settle) // a measurement, not a test: let the victim read
	alive := 0
	for _, qc := range conns {
		if qc.Context().Err() == nil {
			alive++
		}
	}
	t.Logf("frames: 400 partial max-size frames: heap +%s, RSS +%s, goroutines +%d, attacker conns still open %d/4, victim stats %+v",
		mib(heapInuse()-heap0), mib(rss()-rss0), runtime.NumGoroutine()-g0, alive, victim.Stats())
}

// TestMeasureConns: a legitimate peer's request is in flight while 300
// connections from fresh keys arrive from 10 addresses; the victim's
// MaxConns is 100.
func TestMeasureConns(t *testing.T) {
	release := make(chan struct{})
	victim := startConnector(t, "127.0.0.1", connector.Config{MaxConns: 100}, connector.HandlerFunc(
		func(ctx context.Context, m *connector.Message) (*connector.Response, error) {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return &connector.Response{Payload: []byte("ok")}, nil
		}))
	legit := startConnector(t, "127.0.0.1", connector.Config{}, nil)
	ctx := testCtx(t)
	replied := make(chan error, 1)
	go func() {
		_, err := legit.Request(ctx, connector.Outbound{Target: targetOf(victim), Type: "slow"})
		replied <- err
	}()
	waitFor(t, "the legitimate connection", func() bool { return victim.Stats().Conns == 1 })
	heap0, rss0, g0 := heapInuse(), rss(), runtime.NumGoroutine()
	start := time.Now()
	var conns []*quic.Conn
	failed := 0
	for i := range 300 {
		a := newAttacker(t, "127.0.0."+string(rune('2'+i%10)))
		qc, err := a.dial(ctx, t, victim)
		if err != nil {
			failed++
			continue
		}
		conns = append(conns, qc)
	}
	took := time.Since(start)
	time.Sleep(settle) // a measurement, not a test: let the victim react
	alive := 0
	for _, qc := range conns {
		if qc.Context().Err() == nil {
			alive++
		}
	}
	g1, heap1, rss1 := runtime.NumGoroutine(), heapInuse(), rss()
	close(release)
	err := <-replied
	t.Logf("conns: 300 attacker dials in %v: handshakes failed %d, still open after %v %d, heap +%s, RSS +%s, goroutines +%d, legit request err=%v, victim stats %+v",
		took.Round(time.Millisecond), failed, settle, alive, mib(heap1-heap0), mib(rss1-rss0), g1-g0, err, victim.Stats())
}

// TestMeasureRequests: 500 requests asking for 24 h each, on 500 streams of
// one connection, to a handler that never answers; the victim's
// DefaultTimeout is 2 s.
func TestMeasureRequests(t *testing.T) {
	victim := startConnector(t, "127.0.0.1", connector.Config{DefaultTimeout: 2 * time.Second}, connector.HandlerFunc(
		func(ctx context.Context, m *connector.Message) (*connector.Response, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}))
	a := newAttacker(t, "127.0.0.2")
	ctx := testCtx(t)
	qc, err := a.dial(ctx, t, victim)
	if err != nil {
		t.Fatal(err)
	}
	g0 := runtime.NumGoroutine()
	req := encode(t, &codec.Frame{Kind: codec.KindRequest, ID: 1, Type: "silent", Timeout: 24 * time.Hour})
	answers := make(chan string, 500)
	for range 500 {
		st, err := qc.OpenStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st.Write(req)
		st.Close() // one request per stream: the stream ends with its answer
		go func() {
			var f codec.Frame
			err := codec.NewReader(st, codec.DefaultMaxPayload).ReadFrame(&f)
			switch {
			case err != nil:
				answers <- "stream error"
			default:
				answers <- f.Kind.String() + " " + strings.Fields(f.Error + " -")[0]
			}
		}()
	}
	gPeak := runtime.NumGoroutine()
	time.Sleep(2*time.Second + settle) // a measurement: past the victim's timeout
	got := map[string]int{}
	for len(answers) > 0 {
		got[<-answers]++
	}
	t.Logf("requests: 500 x 24h requests: goroutines +%d at once, +%d after %v (attacker's readers included: %d unanswered), answers %v, victim stats %+v",
		gPeak-g0, runtime.NumGoroutine()-g0, 2*time.Second+settle, 500-sum(got), got, victim.Stats())
	qc.CloseWithError(0, "")
}

func sum(m map[string]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}

// TestMeasureNodeIDs counts how many spellings of one key ParseNodeID takes.
func TestMeasureNodeIDs(t *testing.T) {
	id := string(newIdentity(t).NodeID())
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	last := strings.IndexByte(alphabet, id[len(id)-1])
	accepted := 0
	for low := range 16 { // 52 characters carry 260 bits: the last 4 are unused
		s := id[:len(id)-1] + string(alphabet[last&^15|low])
		if got, err := identity.ParseNodeID(s); err == nil && errors.Is(err, nil) && got != "" {
			accepted++
		}
	}
	t.Logf("node IDs: %d of 16 spellings of one key accepted", accepted)
}

// TestMeasureIdle: one connection holds 100 partial max-size frames and
// pings every 200 ms for 4 s; the victim's IdleTimeout is 1 s.
func TestMeasureIdle(t *testing.T) {
	victim := startConnector(t, "127.0.0.1", connector.Config{IdleTimeout: time.Second}, nil)
	a := newAttacker(t, "127.0.0.2")
	ctx := testCtx(t)
	heap0 := heapInuse()
	qc, err := a.dial(ctx, t, victim)
	if err != nil {
		t.Fatal(err)
	}
	size := uint32(codec.MaxFrameSize(codec.DefaultMaxPayload))
	for range 100 {
		st, err := qc.OpenStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st.Write(partialFrame(size, 1024))
	}
	pings, err := qc.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		pings.Write(encode(t, &codec.Frame{Kind: codec.KindPing, ID: uint64(i + 1)}))
		time.Sleep(200 * time.Millisecond) // a measurement: the attacker's ping rate
	}
	t.Logf("idle: after 4 s of pings and 100 stalled frames (IdleTimeout 1 s): connection open %v, heap +%s, victim stats %+v",
		qc.Context().Err() == nil, mib(heapInuse()-heap0), victim.Stats())
}

// TestMeasureLargeRequests: 64 requests with 1 MiB payloads asking for 24 h,
// on 64 streams of one connection, to a handler that never answers; the
// victim's DefaultTimeout is 3 s. Heap read 2 s in.
func TestMeasureLargeRequests(t *testing.T) {
	victim := startConnector(t, "127.0.0.1", connector.Config{DefaultTimeout: 3 * time.Second}, connector.HandlerFunc(
		func(ctx context.Context, m *connector.Message) (*connector.Response, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}))
	a := newAttacker(t, "127.0.0.2")
	ctx := testCtx(t)
	qc, err := a.dial(ctx, t, victim)
	if err != nil {
		t.Fatal(err)
	}
	req := encode(t, &codec.Frame{Kind: codec.KindRequest, ID: 1, Type: "silent", Timeout: 24 * time.Hour, Payload: make([]byte, codec.DefaultMaxPayload)})
	heap0 := heapInuse()
	for range 64 {
		st, err := qc.OpenStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		go st.Write(req)
	}
	time.Sleep(2 * time.Second) // a measurement: while the requests are held
	t.Logf("large requests: 64 x 1 MiB requests held: heap +%s, victim stats %+v", mib(heapInuse()-heap0), victim.Stats())
	qc.CloseWithError(0, "")
}
