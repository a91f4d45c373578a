package bench

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// An Extra is a benchmark beyond the common scenarios, such as one that
// only makes sense for peerbridge. It builds whatever it measures itself,
// may report progress through progress (one line per call), and returns
// named figures that are merged at the top level of the report's JSON and
// listed under the table. Names must not clash with each other or with the
// report's own keys.
type Extra func(ctx context.Context, progress func(string)) (map[string]float64, error)

// Options configure [Run]. Zero fields take defaults, which depend on Quick.
type Options struct {
	// Setups are the setups compared, in column order; the last is the one
	// the ratio columns describe. Default: NewNATSSetup, NewLeafSetup.
	Setups []SetupFunc
	// Extras run after the scenarios, once every setup is closed.
	Extras []Extra
	// Quick picks small defaults so that the whole run takes well under a
	// minute; otherwise it is meant to take a few minutes at most.
	Quick bool
	// JSON makes Run write the report to out as JSON instead of a table.
	JSON bool

	// LatencySizes are the request payload sizes in bytes, each measured
	// separately. Default 128 and 16384.
	LatencySizes []int
	// Warmup is how many requests precede each measurement unrecorded.
	// Default 1000 (quick 100).
	Warmup int
	// Requests is how many sequential requests are recorded per size and
	// setup. Default 20000 (quick 2000).
	Requests int
	// LatencyDuration caps the recorded requests per size and setup: the
	// measurement ends at Requests or at this, whichever comes first.
	// Default 20s (quick 3s).
	LatencyDuration time.Duration
	// RequestTimeout bounds each request; a request that times out or
	// fails counts as an error. Default 5s.
	RequestTimeout time.Duration

	// ThroughputSizes are the fire-and-forget payload sizes in bytes.
	// Default 128, 1024 and 65536.
	ThroughputSizes []int
	// Messages is how many messages are published per size and setup, at
	// most; see MessageBytes. Default 200000 (quick 100000: fewer pass
	// plain NATS too fast for a stable rate).
	Messages int
	// MessageBytes caps the payload bytes published per size and setup, so
	// that large messages are fewer. Default 512 MiB (quick 64 MiB).
	MessageBytes int64
	// ThroughputDuration caps publishing per size and setup. Default 15s
	// (quick 2s).
	ThroughputDuration time.Duration
	// WindowBytes bounds the payload bytes published but not yet counted
	// at the subscriber (at least 16 and at most 8192 messages), so the
	// publisher never runs far ahead of the receiver. Default 4 MiB.
	WindowBytes int
	// StallTimeout is how long the publisher, and at the end the wait for
	// stragglers, waits without any message arriving before it gives up;
	// what has not arrived by then is lost. Default 5s (quick 1s).
	StallTimeout time.Duration

	// SetupTimeout bounds creating each setup and each scenario's wait for
	// its subjects to be reachable. Default 30s (quick 10s).
	SetupTimeout time.Duration
}

// Window limits in messages; see Options.WindowBytes.
const (
	minWindow = 16
	maxWindow = 8192
)

// withDefaults returns o with its zero fields filled in, or an error for
// values that cannot work.
func (o Options) withDefaults() (Options, error) {
	pick := func(full, quick int) int { return choose(o.Quick, full, quick) }
	pickD := func(full, quick time.Duration) time.Duration { return choose(o.Quick, full, quick) }
	if o.Setups == nil {
		o.Setups = []SetupFunc{NewNATSSetup, NewLeafSetup}
	}
	if o.LatencySizes == nil {
		o.LatencySizes = []int{128, 16 << 10}
	}
	if o.ThroughputSizes == nil {
		o.ThroughputSizes = []int{128, 1 << 10, 64 << 10}
	}
	setInt(&o.Warmup, pick(1000, 100))
	setInt(&o.Requests, pick(20000, 2000))
	setInt(&o.Messages, pick(200000, 100000))
	setInt(&o.WindowBytes, 4<<20)
	if o.MessageBytes == 0 {
		o.MessageBytes = int64(pick(512<<20, 64<<20))
	}
	setDur(&o.LatencyDuration, pickD(20*time.Second, 3*time.Second))
	setDur(&o.RequestTimeout, 5*time.Second)
	setDur(&o.ThroughputDuration, pickD(15*time.Second, 2*time.Second))
	setDur(&o.StallTimeout, pickD(5*time.Second, time.Second))
	setDur(&o.SetupTimeout, pickD(30*time.Second, 10*time.Second))
	return o, o.validate()
}

// validate reports options no run can use.
func (o Options) validate() error {
	if len(o.Setups) == 0 {
		return errors.New("bench: no setups")
	}
	for _, sizes := range [][]int{o.LatencySizes, o.ThroughputSizes} {
		for _, n := range sizes {
			if n <= 0 {
				return fmt.Errorf("bench: payload size %d is not positive", n)
			}
		}
	}
	if o.Warmup < 0 || o.Requests < 0 || o.Messages < 0 || o.MessageBytes < 0 || o.WindowBytes < 0 {
		return errors.New("bench: negative count in options")
	}
	return nil
}

// choose is quick if q, else full.
func choose[T any](q bool, full, quick T) T {
	if q {
		return quick
	}
	return full
}

// setInt sets *p to def when it is zero.
func setInt(p *int, def int) {
	if *p == 0 {
		*p = def
	}
}

// setDur sets *p to def when it is zero.
func setDur(p *time.Duration, def time.Duration) {
	if *p == 0 {
		*p = def
	}
}
