package bench

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats.go"
)

const (
	// echoType is the message type of the request-reply scenario.
	echoType = "echo"
	// histogramFloor is the highest latency the histogram tracks when the
	// request timeout is shorter.
	histogramFloor = time.Minute
	// histogramDigits is the histogram's precision in significant digits.
	histogramDigits = 3
)

// LatencyResult is the request-reply latency of one setup at one payload
// size: sequential requests from one requester, each echoed back in full.
// Latencies are in microseconds.
type LatencyResult struct {
	// Size is the request (and reply) payload in bytes.
	Size int
	// Count is how many requests were recorded.
	Count int
	// Errors is how many requests failed or timed out; they are not
	// recorded.
	Errors int
	// P50, P90 and P99 are percentiles of the recorded latencies.
	P50, P90, P99 float64
	// Mean and Max are the recorded latencies' mean and maximum.
	Mean, Max float64
}

// runLatency measures request-reply latency through s at one payload size:
// it starts an echo responder on side B, waits until a request gets
// through, warms up, then records sequential requests until o.Requests or
// o.LatencyDuration.
func runLatency(ctx context.Context, s Setup, size int, o Options) (LatencyResult, error) {
	e, err := startEcho(ctx, s.Responder(), s.ServeSubject(echoType))
	if err != nil {
		return LatencyResult{}, err
	}
	defer e.close()
	msg := &nats.Msg{Subject: s.RequestSubject(echoType), Header: s.Headers(), Data: payload(size)}
	rctx, cancel := context.WithTimeout(ctx, o.SetupTimeout)
	err = awaitReply(rctx, s.Requester(), msg)
	cancel()
	if err != nil {
		return LatencyResult{}, err
	}
	deadline := time.Now().Add(o.LatencyDuration)
	for i := 0; i < o.Warmup && time.Now().Before(deadline); i++ {
		// Failures while warming up are not counted; ctx ending is fatal.
		_, _ = request(ctx, s.Requester(), msg, o.RequestTimeout)
		if err := ctx.Err(); err != nil {
			return LatencyResult{}, fmt.Errorf("warming up: %w", err)
		}
	}
	return measureLatency(ctx, s.Requester(), msg, o)
}

// measureLatency records sequential requests of msg into a histogram.
func measureLatency(ctx context.Context, nc *nats.Conn, msg *nats.Msg, o Options) (LatencyResult, error) {
	highest := max(o.RequestTimeout, histogramFloor)
	h := hdrhistogram.New(1, highest.Nanoseconds(), histogramDigits)
	res := LatencyResult{Size: len(msg.Data)}
	deadline := time.Now().Add(o.LatencyDuration)
	for i := 0; i < o.Requests && time.Now().Before(deadline); i++ {
		d, err := request(ctx, nc, msg, o.RequestTimeout)
		if ctx.Err() != nil {
			return res, fmt.Errorf("request-reply: %w", ctx.Err())
		}
		if err != nil {
			res.Errors++
			continue
		}
		_ = h.RecordValue(min(max(d.Nanoseconds(), 1), highest.Nanoseconds()))
	}
	if h.TotalCount() == 0 {
		return res, fmt.Errorf("request-reply on %s: no request succeeded (%d failed)", msg.Subject, res.Errors)
	}
	res.Count = int(h.TotalCount())
	res.P50 = micros(h.ValueAtQuantile(50))
	res.P90 = micros(h.ValueAtQuantile(90))
	res.P99 = micros(h.ValueAtQuantile(99))
	res.Max = micros(h.Max())
	res.Mean = h.Mean() / 1e3
	return res, nil
}

// request sends msg and waits for an echo of it, returning the round-trip
// time. A reply that is not the request's payload is an error.
func request(ctx context.Context, nc *nats.Conn, msg *nats.Msg, timeout time.Duration) (time.Duration, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	reply, err := nc.RequestMsgWithContext(rctx, msg)
	d := time.Since(start)
	if err != nil {
		return d, err
	}
	if !bytes.Equal(reply.Data, msg.Data) {
		return d, fmt.Errorf("reply of %d bytes does not echo the request", len(reply.Data))
	}
	return d, nil
}

// micros converts nanoseconds to microseconds.
func micros(ns int64) float64 { return float64(ns) / 1e3 }
