package connector

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/peerbridge/peerbridge/codec"
)

// Send delivers a fire-and-forget message to o.Target and returns once the
// peer has acknowledged it. The timeout is o.Timeout, else the context's
// deadline, else Config.DefaultTimeout.
func (c *Connector) Send(ctx context.Context, o Outbound) error {
	ctx, cancel := c.withTimeout(ctx, &o)
	defer cancel()
	done := make(chan error, 1)
	c.SendAsync(ctx, o, func(r Result) { done <- r.Err })
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting for acknowledgement: %w", ErrTimeout, ctx.Err())
	}
}

// SendAsync queues a fire-and-forget message to o.Target and calls done
// exactly once, with the outcome, when the peer acknowledged it or the send
// failed. It does not block: messages to one peer wait in that peer's
// queue, served by a worker of its own, so a slow or dead peer delays no
// other. Successive calls for one target arrive in order. A full queue
// fails at once with ErrBusy. ctx (with o.Timeout, if set) bounds the wait
// in the queue, finding the connection and writing; done is called from
// another goroutine (or from this one, on an early failure) and must not
// block.
func (c *Connector) SendAsync(ctx context.Context, o Outbound, done func(Result)) {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		inner := done
		done = func(r Result) { cancel(); inner(r) }
	}
	c.sendAsync(ctx, o.Target, &o, done)
}

func (c *Connector) sendAsync(ctx context.Context, t Target, o *Outbound, done func(Result)) {
	err := c.checkTarget(t)
	if err == nil && len(o.Payload) > c.cfg.MaxPayload {
		err = &codec.SizeError{What: "payload", Size: len(o.Payload), Limit: c.cfg.MaxPayload}
	}
	if err == nil {
		q := queued{ctx: ctx, t: t, typ: o.Type, headers: o.Headers, payload: o.Payload, route: o.Route, done: done}
		if c.sendDirect(&q) {
			return
		}
		err = c.enqueue(q)
	}
	if err != nil {
		done(Result{Target: t, Err: err})
	}
}

// Request sends a request to o.Target and waits for the reply. The error is
// a *RemoteError if the peer answered with one. Requests wait in no queue:
// each runs on its caller's goroutine and its own stream.
func (c *Connector) Request(ctx context.Context, o Outbound) (*Reply, error) {
	ctx, cancel := c.withTimeout(ctx, &o)
	defer cancel()
	if err := c.checkTarget(o.Target); err != nil {
		return nil, err
	}
	f := codec.Frame{Kind: codec.KindRequest, Type: o.Type, Headers: o.Headers, Payload: o.Payload}
	for attempt := 0; ; attempt++ {
		pc, reused, err := c.conn(ctx, o.Target, o.Route)
		if err != nil {
			return nil, err
		}
		answer, err := pc.request(ctx, &f)
		var ns *notSentError
		if errors.As(err, &ns) && attempt == 0 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &Reply{From: pc.id, Headers: answer.Headers, Payload: answer.Payload, Path: pc.path, Reused: reused, Remote: addrPort(pc.qc.RemoteAddr())}, nil
	}
}

// SendMany sends the message o to every target concurrently (o.Target is
// ignored) and returns a result per target, in the order given. The
// message is queued once per target, its payload shared. A peer that has
// not acknowledged by the deadline gets ErrTimeout.
func (c *Connector) SendMany(ctx context.Context, ts []Target, o Outbound) []Result {
	ctx, cancel := c.withTimeout(ctx, &o)
	defer cancel()
	var (
		mu      sync.Mutex // guards results and left
		results = make([]Result, len(ts))
		left    = len(ts)
		allDone = make(chan struct{})
	)
	for i, t := range ts {
		results[i].Target = t
		results[i].Err = errPending
	}
	finish := func(i int, r Result) {
		mu.Lock()
		defer mu.Unlock()
		if results[i].Err != errPending {
			return
		}
		results[i] = r
		if left--; left == 0 {
			close(allDone)
		}
	}
	for i, t := range ts {
		c.sendAsync(ctx, t, &o, func(r Result) { finish(i, r) })
	}
	if len(ts) > 0 {
		select {
		case <-allDone:
		case <-ctx.Done():
			for i, t := range ts {
				finish(i, Result{Target: t, Err: fmt.Errorf("%w: waiting for acknowledgement: %w", ErrTimeout, ctx.Err())})
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return append([]Result(nil), results...)
}

// checkTarget refuses a target that names nothing, and every target once
// the connector is closing.
func (c *Connector) checkTarget(t Target) error {
	if c.cancel == nil || c.ctx.Err() != nil || c.closing.Load() {
		return ErrClosed
	}
	if t.NodeID == "" && t.Endpoint == "" {
		return fmt.Errorf("%w: no node ID or endpoint", ErrBadTarget)
	}
	return nil
}

// errPending marks a SendMany result not yet known.
var errPending = errors.New("pending")
