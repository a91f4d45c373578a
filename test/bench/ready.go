package bench

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

const (
	// attemptTimeout bounds one readiness probe (a request or a published
	// probe waiting to be seen).
	attemptTimeout = 250 * time.Millisecond
	// retryMin and retryMax bound the back-off between readiness probes.
	retryMin = 2 * time.Millisecond
	retryMax = 100 * time.Millisecond
)

// retry calls try until it succeeds or ctx ends, backing off between
// attempts. It is for events nothing notifies us of, such as subscription
// interest reaching another server.
func retry(ctx context.Context, what string, try func(context.Context) error) error {
	wait := retryMin
	for {
		err := try(ctx)
		if err == nil {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w (last attempt: %v)", what, ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, retryMax)
	}
}

// awaitReply sends msg as a request until a reply with the same payload
// comes back, which shows the path from requester to responder and back
// is up and interest has propagated.
func awaitReply(ctx context.Context, nc *nats.Conn, msg *nats.Msg) error {
	return retry(ctx, "waiting for a reply on "+msg.Subject, func(ctx context.Context) error {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		defer cancel()
		reply, err := nc.RequestMsgWithContext(actx, msg)
		if err != nil {
			return err
		}
		if !bytes.Equal(reply.Data, msg.Data) {
			return fmt.Errorf("reply of %d bytes does not echo the %d sent", len(reply.Data), len(msg.Data))
		}
		return nil
	})
}

// flushTimeout bounds a flush whose context has no deadline.
const flushTimeout = 30 * time.Second

// flush waits until the server has processed everything nc sent. nats.go
// insists on a deadline; ctx without one gets flushTimeout.
func flush(ctx context.Context, nc *nats.Conn) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, flushTimeout)
		defer cancel()
	}
	return nc.FlushWithContext(ctx)
}
