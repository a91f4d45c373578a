package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// probeMarker is the payload of readiness probes, which receivers do not
// count.
const probeMarker = "bench-probe"

// receiver counts the messages arriving on one subscription. It owns one
// goroutine, stopped and waited for by close.
type receiver struct {
	sub  *nats.Subscription
	base time.Time // origin of last

	count   atomic.Int64  // messages counted, probes excluded
	last    atomic.Int64  // nanoseconds from base to the last counted message
	arrived chan struct{} // signalled (without blocking) after each count
	probed  chan struct{} // closed when the first probe arrives

	quit chan struct{}
	wg   sync.WaitGroup
}

// startReceiver subscribes nc to subject with room for capacity pending
// messages (beyond that the client drops them as a slow consumer) and
// counts arrivals until close. It returns once the server has registered
// the subscription.
func startReceiver(ctx context.Context, nc *nats.Conn, subject string, capacity int) (*receiver, error) {
	ch := make(chan *nats.Msg, capacity)
	sub, err := nc.ChanSubscribe(subject, ch)
	if err != nil {
		return nil, fmt.Errorf("subscribing receiver to %s: %w", subject, err)
	}
	if err := flush(ctx, nc); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("registering receiver on %s: %w", subject, err)
	}
	r := &receiver{
		sub:     sub,
		base:    time.Now(),
		arrived: make(chan struct{}, 1),
		probed:  make(chan struct{}),
		quit:    make(chan struct{}),
	}
	r.wg.Go(func() { r.run(ch) })
	return r, nil
}

// run counts messages from ch until quit is closed.
func (r *receiver) run(ch <-chan *nats.Msg) {
	probed := false
	for {
		select {
		case <-r.quit:
			return
		case m := <-ch:
			if string(m.Data) == probeMarker {
				if !probed {
					probed = true
					close(r.probed)
				}
				continue
			}
			r.last.Store(int64(time.Since(r.base)))
			r.count.Add(1)
			select {
			case r.arrived <- struct{}{}:
			default:
			}
		}
	}
}

// now is the time since the receiver started, the clock of last.
func (r *receiver) now() time.Duration { return time.Since(r.base) }

// await waits until at least target messages have been counted. It gives
// up, returning false, when stall passes without any message arriving.
func (r *receiver) await(ctx context.Context, target int64, stall time.Duration) (bool, error) {
	t := time.NewTimer(stall)
	defer t.Stop()
	for r.count.Load() < target {
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("waiting for messages: %w", ctx.Err())
		case <-t.C:
			return false, nil
		case <-r.arrived:
			t.Reset(stall)
		}
	}
	return true, nil
}

// dropped is how many messages the client dropped for this subscription
// as a slow consumer.
func (r *receiver) dropped() int64 {
	n, err := r.sub.Dropped()
	if err != nil {
		return 0
	}
	return int64(n)
}

// close unsubscribes and waits for the counting goroutine to return.
func (r *receiver) close() {
	_ = r.sub.Unsubscribe()
	close(r.quit)
	r.wg.Wait()
}
