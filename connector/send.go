package connector

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/peerbridge/peerbridge/codec"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// Send delivers a fire-and-forget message to t and returns once the peer has
// acknowledged it. The context's deadline is the timeout; without one,
// Config.DefaultTimeout applies.
func (c *Connector) Send(ctx context.Context, t Target, msgType string, payload []byte, headers map[string][]string) error {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	done := make(chan error, 1)
	c.SendAsync(ctx, t, msgType, payload, headers, func(err error) { done <- err })
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting for acknowledgement: %w", ErrTimeout, ctx.Err())
	}
}

// SendAsync writes a fire-and-forget message to t before it returns, so
// successive calls from one goroutine arrive in order, and calls done exactly
// once when the peer acknowledges it or the send failed. ctx bounds finding
// the connection and writing; done is called from another goroutine (or from
// this one, on an early failure) and must not block.
func (c *Connector) SendAsync(ctx context.Context, t Target, msgType string, payload []byte, headers map[string][]string, done func(error)) {
	f := codec.Frame{Kind: codec.KindSend, Type: msgType, Headers: headers, Payload: payload}
	for attempt := 0; ; attempt++ {
		pc, _, err := c.conn(ctx, t)
		if err == nil {
			err = pc.out.write(ctx, &f, done)
		}
		var ns *notSentError
		if errors.As(err, &ns) && attempt == 0 {
			continue
		}
		if err != nil {
			done(err)
		}
		return
	}
}

// Request sends a request to t and waits for the reply. The error is a
// *RemoteError if the peer answered with one.
func (c *Connector) Request(ctx context.Context, t Target, msgType string, payload []byte, headers map[string][]string) (*Reply, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	f := codec.Frame{Kind: codec.KindRequest, Type: msgType, Headers: headers, Payload: payload}
	for attempt := 0; ; attempt++ {
		pc, reused, err := c.conn(ctx, t)
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
		return &Reply{From: pc.id, Headers: answer.Headers, Payload: answer.Payload, Path: pc.path, Reused: reused}, nil
	}
}

// SendMany sends one message to every target concurrently and returns a
// result per target, in the order given. A peer that has not acknowledged by
// the deadline gets ErrTimeout.
func (c *Connector) SendMany(ctx context.Context, ts []Target, msgType string, payload []byte, headers map[string][]string) []Result {
	ctx, cancel := c.withTimeout(ctx)
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
	finish := func(i int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if results[i].Err != errPending {
			return
		}
		results[i].Err = err
		if left--; left == 0 {
			close(allDone)
		}
	}
	var wg sync.WaitGroup
	for i, t := range ts {
		wg.Go(func() {
			c.SendAsync(ctx, t, msgType, payload, headers, func(err error) { finish(i, err) })
		})
	}
	wg.Wait()
	if len(ts) > 0 {
		select {
		case <-allDone:
		case <-ctx.Done():
			for i := range ts {
				finish(i, fmt.Errorf("%w: waiting for acknowledgement: %w", ErrTimeout, ctx.Err()))
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	out := append([]Result(nil), results...)
	for i := range out {
		if out[i].Err == nil {
			out[i].NodeID = c.resolvedID(out[i].Target)
		}
	}
	return out
}

// errPending marks a SendMany result not yet known.
var errPending = errors.New("pending")

func (c *Connector) resolvedID(t Target) identity.NodeID {
	if t.NodeID != "" {
		return t.NodeID
	}
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	return c.pool.byEndpoint[t.Endpoint]
}

func (c *Connector) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.cfg.DefaultTimeout)
}
