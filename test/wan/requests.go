package wan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats.go"
)

// histogramDigits is the latency histograms' precision.
const histogramDigits = 3

// RequestResult is the request-reply load through one system. Latencies
// are in milliseconds.
type RequestResult struct {
	// Requesters is how many requesters ran at once.
	Requesters int `json:"requesters"`
	// Sent is how many requests were sent; each ended as one of OK or
	// Errors (a timeout, an error reply or a reply that is not the echo).
	Sent   int `json:"sent"`
	OK     int `json:"ok"`
	Errors int `json:"errors"`
	// Seconds runs from the first request to the last reply.
	Seconds float64 `json:"seconds"`
	// PerSec is OK per second.
	PerSec float64 `json:"per_sec"`
	// Percentiles and maximum of the successful requests' latencies.
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// requester is one requester's tally.
type requester struct {
	h          *hdrhistogram.Histogram
	sent, errs int
}

// runRequests runs o.Requesters requesters through sys, each with its own
// connection sending sequential echo requests for o.RequestDuration.
func runRequests(ctx context.Context, sys system, o Options) (RequestResult, error) {
	res := RequestResult{Requesters: o.Requesters}
	conns := make([]*nats.Conn, 0, o.Requesters)
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	for i := range o.Requesters {
		nc, err := connect(ctx, sys.url, fmt.Sprintf("wan-%s-requester-%d", sys.name, i))
		if err != nil {
			return res, err
		}
		conns = append(conns, nc)
	}
	sctx, cancel := context.WithTimeout(ctx, o.SetupTimeout)
	err := awaitEcho(sctx, conns[0], sys, newPayloads(o.Size, 0).next(), o.RequestTimeout)
	cancel()
	if err != nil {
		return res, err
	}
	tallies := make([]requester, len(conns))
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(o.RequestDuration)
	for i, nc := range conns {
		wg.Go(func() { tallies[i] = request(ctx, nc, sys, newPayloads(o.Size, byte(i)), deadline, o) })
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("request-reply: %w", err)
	}
	return res.add(tallies), nil
}

// request sends echo requests through sys until deadline, one at a time,
// each with a new payload.
func request(ctx context.Context, nc *nats.Conn, sys system, p *payloads, deadline time.Time, o Options) requester {
	r := requester{h: newHistogram(o.RequestTimeout)}
	msg := sys.msg(sys.subj.echo, nil)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		msg.Data = p.next()
		r.sent++
		d, err := echoOnce(ctx, nc, msg, o.RequestTimeout)
		if err != nil {
			r.errs++
			continue
		}
		_ = r.h.RecordValue(min(max(d.Microseconds(), 1), r.h.HighestTrackableValue()))
	}
	return r
}

// echoOnce sends msg and waits for its echo, returning the round trip.
func echoOnce(ctx context.Context, nc *nats.Conn, msg *nats.Msg, timeout time.Duration) (time.Duration, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	reply, err := nc.RequestMsgWithContext(rctx, msg)
	d := time.Since(start)
	if err != nil {
		return d, err
	}
	if !bytes.Equal(reply.Data, msg.Data) {
		return d, errors.New("wan: the reply does not echo the request")
	}
	return d, nil
}

// newHistogram tracks latencies in microseconds up to twice timeout.
func newHistogram(timeout time.Duration) *hdrhistogram.Histogram {
	return hdrhistogram.New(1, 2*timeout.Microseconds(), histogramDigits)
}

// add merges the requesters' tallies into res.
func (res RequestResult) add(tallies []requester) RequestResult {
	var h *hdrhistogram.Histogram
	for _, t := range tallies {
		res.Sent += t.sent
		res.Errors += t.errs
		if h == nil {
			h = t.h
			continue
		}
		h.Merge(t.h)
	}
	if h == nil {
		return res
	}
	res.OK = int(h.TotalCount())
	if res.Seconds > 0 {
		res.PerSec = float64(res.OK) / res.Seconds
	}
	ms := func(us int64) float64 { return float64(us) / 1e3 }
	res.P50, res.P90, res.P99, res.Max = ms(h.ValueAtQuantile(50)), ms(h.ValueAtQuantile(90)), ms(h.ValueAtQuantile(99)), ms(h.Max())
	return res
}
