package bench

import (
	"context"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/peerbridge/peerbridge/connector"
)

// ExtraOptions configure the extras of setup (c), [PeerbridgeExtras].
// Zero fields take defaults, which depend on Quick.
type ExtraOptions struct {
	// Quick picks small defaults, as Options.Quick does.
	Quick bool
	// PooledSends is how many acknowledged sends over a pooled connection
	// are timed. Default 20000 (quick 2000).
	PooledSends int
	// FreshSends is how many sends from a connector with no connection yet
	// (so each one dials) are timed. Default 300 (quick 50).
	FreshSends int
	// FanoutPeers is k, the peers one message fans out to. Default 20.
	FanoutPeers int
	// FanoutSends is how many messages are timed per fan-out width (one
	// peer, k peers). Default 5000 (quick 500).
	FanoutSends int
	// IdlePeers is how many idle peers one bridge holds for the memory
	// figure. Default 1000.
	IdlePeers int
	// StartIdlePeers starts the idle peers. Nil starts them in this process
	// (see [StartIdlePeersInProcess] for what that means for the figure).
	StartIdlePeers IdlePeersFunc
	// IdleSettle is how long the idle peers' connections carry nothing
	// before memory is read, so that what a connection holds only while
	// busy (its message stream and the goroutine reading acknowledgements)
	// is gone, as on a peer that is really idle. Default 2s.
	IdleSettle time.Duration
	// Duration caps each timed loop. Default 20s (quick 3s).
	Duration time.Duration
}

// withDefaults returns o with its zero fields filled in.
func (o ExtraOptions) withDefaults() ExtraOptions {
	pick := func(full, quick int) int { return choose(o.Quick, full, quick) }
	setInt(&o.PooledSends, pick(20000, 2000))
	setInt(&o.FreshSends, pick(300, 50))
	setInt(&o.FanoutPeers, 20)
	setInt(&o.FanoutSends, pick(5000, 500))
	setInt(&o.IdlePeers, 1000)
	setDur(&o.IdleSettle, 2*time.Second)
	setDur(&o.Duration, choose(o.Quick, 20*time.Second, 3*time.Second))
	if o.StartIdlePeers == nil {
		o.StartIdlePeers = StartIdlePeersInProcess
	}
	return o
}

// PeerbridgeExtras are the figures only setup (c) has: pooled against
// fresh-dial send latency, fan-out to k peers against one send, and the
// memory one bridge spends per idle pooled peer. Each builds its own nodes
// on loopback. Their JSON keys:
//
//	send_pooled_p50_us, send_fresh_p50_us, pooled_vs_fresh_ratio (fresh / pooled)
//	fanout1_p50_us, fanout<k>_p50_us, fanout<k>_ratio (k peers / one)
//	bytes_per_idle_peer (heap in use + stacks), idle_peer_heap_bytes,
//	idle_peer_heap_alloc_bytes, idle_peer_stack_bytes, idle_peer_goroutines,
//	idle_peers, idle_peers_in_process (1 or 0)
//	hol_p99_ratio (p99 of sends to a healthy peer while 20 sends to a black
//	hole are pending, over the same without them), hol_p99_us,
//	hol_base_p99_us, hol_sends
func PeerbridgeExtras(o ExtraOptions) []Extra {
	o = o.withDefaults()
	return []Extra{o.pooling, o.fanout, o.headOfLine, o.idleMemory}
}

// ackHandler acknowledges every message and answers every request with an
// empty reply, keeping nothing.
var ackHandler connector.Handler = connector.HandlerFunc(func(context.Context, *connector.Message) (*connector.Response, error) {
	return nil, nil
})

// sampler records latencies of successful calls in an HDR histogram.
type sampler struct {
	h *hdrhistogram.Histogram
}

func newSampler() *sampler {
	return &sampler{h: hdrhistogram.New(1, histogramFloor.Nanoseconds(), histogramDigits)}
}

// time calls f and records how long it took if it succeeded.
func (s *sampler) time(f func() error) error {
	start := time.Now()
	if err := f(); err != nil {
		return err
	}
	_ = s.h.RecordValue(min(max(time.Since(start).Nanoseconds(), 1), histogramFloor.Nanoseconds()))
	return nil
}

// p99 is the 99th percentile in microseconds.
func (s *sampler) p99() float64 { return micros(s.h.ValueAtQuantile(99)) }

// p50 is the median in microseconds.
func (s *sampler) p50() float64 { return micros(s.h.ValueAtQuantile(50)) }

// count is how many calls were recorded.
func (s *sampler) count() int64 { return s.h.TotalCount() }
