package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

const (
	// probeQueue is receiver capacity beyond the window, for probes and
	// slack.
	probeQueue = 1024
	// deadlineEvery is how many publishes pass between looks at the clock.
	deadlineEvery = 256
)

// ThroughputResult is the fire-and-forget throughput of one setup at one
// payload size, counted at the subscriber on side B.
type ThroughputResult struct {
	// Size is the payload in bytes.
	Size int
	// Sent is how many messages were published; Received how many arrived.
	Sent, Received int64
	// Lost is Sent-Received: messages that had not arrived when the wait
	// for stragglers ended, slow-consumer drops included.
	Lost int64
	// Dropped is how many of the lost the subscriber's client dropped as a
	// slow consumer.
	Dropped int64
	// Stalled reports that the publisher gave up early because nothing
	// arrived for Options.StallTimeout.
	Stalled bool
	// Elapsed runs from the first publish to the last arrival.
	Elapsed time.Duration
	// MsgsPerSec and MBPerSec are the received messages and payload
	// megabytes (10^6 bytes) per second of Elapsed.
	MsgsPerSec, MBPerSec float64
}

// runThroughput measures fire-and-forget throughput through s at one
// payload size: it counts arrivals on side B, waits until a probe gets
// through, then publishes from side A as fast as the window allows.
func runThroughput(ctx context.Context, s Setup, size int, o Options) (ThroughputResult, error) {
	typ := fmt.Sprintf("blast%d", size)
	window := int64(min(max(o.WindowBytes/size, minWindow), maxWindow))
	r, err := startReceiver(ctx, s.Responder(), s.ServeSubject(typ), int(2*window)+probeQueue)
	if err != nil {
		return ThroughputResult{}, err
	}
	defer r.close()
	pctx, cancel := context.WithTimeout(ctx, o.SetupTimeout)
	err = awaitProbe(pctx, s, typ, r)
	cancel()
	if err != nil {
		return ThroughputResult{}, err
	}
	msg := &nats.Msg{Subject: s.SendSubject(typ), Header: s.Headers(), Data: payload(size)}
	n := min(int64(o.Messages), max(o.MessageBytes/int64(size), 1))
	return blast(ctx, s.Requester(), msg, n, window, r, o)
}

// blast publishes msg n times (or until o.ThroughputDuration), never more
// than window messages ahead of the receiver, then waits for stragglers.
func blast(ctx context.Context, nc *nats.Conn, msg *nats.Msg, n, window int64, r *receiver, o Options) (ThroughputResult, error) {
	res := ThroughputResult{Size: len(msg.Data)}
	start := r.now()
	deadline := time.Now().Add(o.ThroughputDuration)
	for res.Sent < n {
		if res.Sent%deadlineEvery == 0 && time.Now().After(deadline) {
			break
		}
		if res.Sent-r.count.Load() >= window {
			// Resume at half a window in flight, not at every arrival.
			ok, err := r.await(ctx, res.Sent-window/2, o.StallTimeout)
			if err != nil {
				return res, err
			}
			if !ok {
				res.Stalled = true
				break
			}
		}
		if err := nc.PublishMsg(msg); err != nil {
			return res, fmt.Errorf("publishing on %s: %w", msg.Subject, err)
		}
		res.Sent++
	}
	if err := flush(ctx, nc); err != nil {
		return res, fmt.Errorf("flushing publisher: %w", err)
	}
	if _, err := r.await(ctx, res.Sent, o.StallTimeout); err != nil {
		return res, err
	}
	res.finish(r, start)
	return res, nil
}

// finish fills in the counts and rates once publishing is over.
func (res *ThroughputResult) finish(r *receiver, start time.Duration) {
	res.Received = r.count.Load()
	res.Lost = max(res.Sent-res.Received, 0)
	res.Dropped = r.dropped()
	if res.Received == 0 {
		return
	}
	res.Elapsed = time.Duration(r.last.Load()) - start
	if secs := res.Elapsed.Seconds(); secs > 0 {
		res.MsgsPerSec = float64(res.Received) / secs
		res.MBPerSec = float64(res.Received) * float64(res.Size) / secs / 1e6
	}
}

// awaitProbe publishes probes on typ until the receiver sees one, which
// shows the path from publisher to subscriber is up and interest has
// propagated.
func awaitProbe(ctx context.Context, s Setup, typ string, r *receiver) error {
	probe := &nats.Msg{Subject: s.SendSubject(typ), Header: s.Headers(), Data: []byte(probeMarker)}
	return retry(ctx, "waiting for a probe on "+probe.Subject, func(ctx context.Context) error {
		if err := s.Requester().PublishMsg(probe); err != nil {
			return err
		}
		t := time.NewTimer(attemptTimeout)
		defer t.Stop()
		select {
		case <-r.probed:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return fmt.Errorf("no probe arrived within %v", attemptTimeout)
		}
	})
}
