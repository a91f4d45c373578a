package wan

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// clockEvery is how many publishes pass between looks at the clock.
const clockEvery = 256

// BlastResult is the fire-and-forget load through one system, counted by
// B's counter.
type BlastResult struct {
	// Sent is how many messages were published, Received how many B
	// counted, Lost the difference once the wait for stragglers ended.
	Sent     int64 `json:"sent"`
	Received int64 `json:"received"`
	Lost     int64 `json:"lost"`
	// Stalled reports that B's count stopped moving for Options.Stall
	// before it reached Sent: then Lost may count messages still on their
	// way.
	Stalled bool `json:"stalled"`
	// Seconds runs from the first publish to the last arrival.
	Seconds float64 `json:"seconds"`
	// PerSec is Received per second of Seconds.
	PerSec float64 `json:"per_sec"`
}

// runBurst publishes o.Burst messages to sys's counter as fast as NATS
// takes them, then waits for them all.
func runBurst(ctx context.Context, sys system, o Options) (BlastResult, error) {
	o.Window, o.BlastDuration = o.Burst+1, 0
	return runBlast(ctx, sys, o)
}

// runBlast publishes to sys's counter for o.BlastDuration, never more than
// o.Window messages ahead of its count, then waits for stragglers; with
// o.Burst set and no duration, it publishes o.Burst messages.
func runBlast(ctx context.Context, sys system, o Options) (BlastResult, error) {
	var res BlastResult
	pub, err := connect(ctx, sys.url, "wan-"+sys.name+"-publisher")
	if err != nil {
		return res, err
	}
	defer pub.Close()
	ctrl, err := connect(ctx, sys.url, "wan-"+sys.name+"-control")
	if err != nil {
		return res, err
	}
	defer ctrl.Close()
	sctx, cancel := context.WithTimeout(ctx, o.SetupTimeout)
	err = awaitProbe(sctx, pub, ctrl, sys)
	cancel()
	if err != nil {
		return res, err
	}
	before, err := askCount(ctx, ctrl, sys, o.Stall) // what earlier loads left counted
	if err != nil {
		return res, fmt.Errorf("first count: %w", err)
	}
	p := startPoller(ctrl, sys, o.Stall)
	defer p.stop()
	start := time.Now()
	if err := publish(ctx, pub, p, sys, o, before.Count, &res); err != nil {
		return res, err
	}
	final, err := askCount(ctx, ctrl, sys, o.Stall)
	if err != nil {
		return res, fmt.Errorf("final count: %w", err)
	}
	final.Count -= before.Count
	res.finish(final, start)
	return res, nil
}

// publish sends until o.BlastDuration has passed (or o.Burst messages, for
// a burst), keeping at most o.Window messages ahead of p's count, then
// waits for B to count them all. base is what p counted before.
func publish(ctx context.Context, nc *nats.Conn, p *poller, sys system, o Options, base int64, res *BlastResult) error {
	msg := sys.msg(sys.subj.blast, nil)
	data := newPayloads(o.Size, 0xff)
	deadline := time.Now().Add(o.BlastDuration)
	more := func() bool { return res.Sent%clockEvery != 0 || time.Now().Before(deadline) }
	if o.BlastDuration == 0 && o.Burst > 0 {
		more = func() bool { return res.Sent < int64(o.Burst) }
	}
	for more() {
		if base+res.Sent-p.count() >= int64(o.Window) {
			ok, err := p.waitFor(ctx, base+res.Sent-int64(o.Window)/2, o.Stall)
			if err != nil {
				return err
			}
			if !ok {
				break // still wait for what was sent, below
			}
		}
		msg.Data = data.next()
		if err := nc.PublishMsg(msg); err != nil {
			return fmt.Errorf("publishing on %s: %w", msg.Subject, err)
		}
		res.Sent++
	}
	if err := nc.FlushTimeout(o.Stall); err != nil {
		return fmt.Errorf("flushing the publisher: %w", err)
	}
	ok, err := p.waitFor(ctx, base+res.Sent, o.Stall)
	res.Stalled = !ok
	return err
}

// finish fills in the counts and the rate from B's final count.
func (res *BlastResult) finish(c countReply, start time.Time) {
	res.Received = c.Count
	res.Lost = max(res.Sent-res.Received, 0)
	if c.Last == 0 {
		return
	}
	res.Seconds = time.Duration(c.Last - start.UnixNano()).Seconds()
	if res.Seconds > 0 {
		res.PerSec = float64(res.Received) / res.Seconds
	}
}
