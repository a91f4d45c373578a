package connector

import (
	"context"
	"sync"
	"testing"

	"github.com/peerbridge/peerbridge/codec"
)

// benchPayload is the payload of the small-message benchmarks.
var benchPayload = make([]byte, 128)

// pipelineWindow is how many fire-and-forget messages the pipelined
// benchmarks keep unacknowledged at most.
const pipelineWindow = 1024

// startSink starts a connector that acknowledges every message and echoes
// every request, without keeping anything.
func startSink(b *testing.B) *Connector {
	b.Helper()
	c := newNode(b, Config{}, newIdentity(b), HandlerFunc(func(_ context.Context, m *Message) (*Response, error) {
		if m.Kind == codec.KindSend {
			return nil, nil
		}
		return &Response{Payload: m.Payload}, nil
	}))
	if err := c.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	return c
}

// warmPair is a sender with a pooled connection to a sink.
func warmPair(b *testing.B) (*Connector, Target) {
	b.Helper()
	a, _ := startNode(b, Config{})
	sink := startSink(b)
	t := targetOf(sink)
	if err := a.Send(b.Context(), Outbound{Target: t, Type: "warm"}); err != nil {
		b.Fatal(err)
	}
	return a, t
}

// BenchmarkSendPooled: one acknowledged 128 B send over a pooled
// connection. Compare BenchmarkSendFreshDial.
func BenchmarkSendPooled(b *testing.B) {
	a, t := warmPair(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Send(ctx, Outbound{Target: t, Type: "bench", Payload: benchPayload}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendFreshDial: one acknowledged 128 B send from a connector that
// has no connection to the peer yet, so the send dials: QUIC and TLS 1.3
// handshake, stream open, frame, acknowledgement. Making and closing the
// sending connector is not timed.
func BenchmarkSendFreshDial(b *testing.B) {
	sink := startSink(b)
	t := targetOf(sink)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		a, err := New(Config{}, newIdentity(b), nil)
		if err == nil {
			err = a.Start(ctx)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		err = a.Send(ctx, Outbound{Target: t, Type: "bench", Payload: benchPayload})
		b.StopTimer()
		a.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkRequestRoundTrip: one 128 B request echoed back over a pooled
// connection, on a stream of its own.
func BenchmarkRequestRoundTrip(b *testing.B) {
	a, t := warmPair(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Request(ctx, Outbound{Target: t, Type: "bench", Payload: benchPayload}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendThroughput128: fire-and-forget 128 B messages, pipelined on
// the shared message stream with at most pipelineWindow unacknowledged.
func BenchmarkSendThroughput128(b *testing.B) {
	a, t := warmPair(b)
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	sendPipelined(b, a, t)
}

// sendPipelined sends b.N messages with SendAsync, at most pipelineWindow
// unacknowledged, and waits for every acknowledgement.
func sendPipelined(b *testing.B, a *Connector, t Target) {
	ctx := b.Context()
	window := make(chan struct{}, pipelineWindow)
	var (
		wg    sync.WaitGroup
		errMu sync.Mutex // guards firstErr
		first error
	)
	done := func(r Result) {
		if err := r.Err; err != nil {
			errMu.Lock()
			first = cmpOr(first, err)
			errMu.Unlock()
		}
		<-window
		wg.Done()
	}
	for b.Loop() {
		window <- struct{}{}
		wg.Add(1)
		a.SendAsync(ctx, Outbound{Target: t, Type: "bench", Payload: benchPayload}, done)
	}
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// BenchmarkSendStreamModel justifies the stream model: fire-and-forget
// messages on one shared, cumulatively acknowledged stream per connection
// against a fresh stream per message (what the model project did), each
// one at a time (latency) and pipelined (throughput).
func BenchmarkSendStreamModel(b *testing.B) {
	b.Run("shared/sequential", func(b *testing.B) {
		a, t := warmPair(b)
		b.ReportAllocs()
		for b.Loop() {
			if err := a.Send(b.Context(), Outbound{Target: t, Type: "bench", Payload: benchPayload}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("per-message/sequential", func(b *testing.B) {
		pc := warmConn(b)
		b.ReportAllocs()
		for b.Loop() {
			if err := sendOnOwnStream(b.Context(), pc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("shared/pipelined", func(b *testing.B) {
		a, t := warmPair(b)
		b.SetBytes(int64(len(benchPayload)))
		b.ReportAllocs()
		sendPipelined(b, a, t)
	})
	b.Run("per-message/pipelined", func(b *testing.B) {
		pc := warmConn(b)
		b.SetBytes(int64(len(benchPayload)))
		b.ReportAllocs()
		b.SetParallelism(64) // streams in flight: 64 x GOMAXPROCS
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				if err := sendOnOwnStream(b.Context(), pc); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// warmConn is a pooled connection from a sender to a sink.
func warmConn(b *testing.B) *peerConn {
	a, t := warmPair(b)
	pc, _, err := a.conn(b.Context(), t, NATOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return pc
}

// sendOnOwnStream sends one message the way a stream-per-message design
// would: open a stream, write the frame, close it, wait for the peer's
// acknowledgement on it.
func sendOnOwnStream(ctx context.Context, pc *peerConn) error {
	st, err := pc.qc.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	buf, err := codec.AppendFrame(nil, &codec.Frame{Kind: codec.KindSend, ID: 1, Type: "bench", Payload: benchPayload}, codec.DefaultMaxPayload)
	if err != nil {
		return err
	}
	if _, err := st.Write(buf); err != nil {
		return err
	}
	st.Close()
	var ack codec.Frame
	if err := codec.NewReader(st, codec.DefaultMaxPayload).ReadFrame(&ack); err != nil {
		return err
	}
	st.CancelRead(codeCancelled)
	return nil
}

// BenchmarkSendMany20: one acknowledged 128 B message fanned out to 20
// pooled peers (all in this process). Compare BenchmarkSendPooled.
func BenchmarkSendMany20(b *testing.B) {
	a, _ := startNode(b, Config{})
	ts := make([]Target, 20)
	for i := range ts {
		ts[i] = targetOf(startSink(b))
	}
	o := Outbound{Type: "bench", Payload: benchPayload}
	send := func() {
		for _, r := range a.SendMany(b.Context(), ts, o) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	send() // dials
	b.ReportAllocs()
	for b.Loop() {
		send()
	}
}
