package wan

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// poller asks B's counter for its count, one request at a time, for as
// long as a blast runs. It owns one goroutine, stopped and waited for by
// stop.
type poller struct {
	n      atomic.Int64
	polled chan struct{} // signalled (without blocking) after every poll
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startPoller starts polling sys's counter through nc, each request
// bounded by timeout.
func startPoller(nc *nats.Conn, sys system, timeout time.Duration) *poller {
	ctx, cancel := context.WithCancel(context.Background())
	p := &poller{polled: make(chan struct{}, 1), cancel: cancel}
	p.wg.Go(func() { p.run(ctx, nc, sys, timeout) })
	return p
}

// run polls until ctx ends. A failed poll is retried after a pause, so a
// counter that errors at once cannot make it spin.
func (p *poller) run(ctx context.Context, nc *nats.Conn, sys system, timeout time.Duration) {
	t := time.NewTimer(0)
	defer t.Stop()
	for ctx.Err() == nil {
		c, err := askCount(ctx, nc, sys, timeout)
		if err == nil {
			p.n.Store(c.Count)
		}
		select {
		case p.polled <- struct{}{}:
		default:
		}
		if err != nil {
			t.Reset(retryMax)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
	}
}

// count is the last count B reported.
func (p *poller) count() int64 { return p.n.Load() }

// waitFor waits until B's count reaches target. It returns false when the
// count has not moved for stall.
func (p *poller) waitFor(ctx context.Context, target int64, stall time.Duration) (bool, error) {
	last, moved := p.count(), time.Now()
	for p.count() < target {
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("waiting for B's count: %w", ctx.Err())
		case <-p.polled:
		}
		if c := p.count(); c != last {
			last, moved = c, time.Now()
		} else if time.Since(moved) > stall {
			return false, nil
		}
	}
	return true, nil
}

// stop ends polling and waits for the goroutine.
func (p *poller) stop() {
	p.cancel()
	p.wg.Wait()
}

// askCount asks sys's counter for its count through nc.
func askCount(ctx context.Context, nc *nats.Conn, sys system, timeout time.Duration) (countReply, error) {
	var c countReply
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	reply, err := nc.RequestMsgWithContext(rctx, sys.msg(sys.subj.count, nil))
	if err != nil {
		return c, fmt.Errorf("asking for the count on %s: %w", sys.subj.count, err)
	}
	if err := json.Unmarshal(reply.Data, &c); err != nil {
		return c, fmt.Errorf("count reply %q: %w", reply.Data, err)
	}
	return c, nil
}
