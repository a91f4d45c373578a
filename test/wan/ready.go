package wan

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// Bounds of readiness probing: one attempt, and the back-off between
// attempts.
const (
	attemptTimeout = time.Second
	retryMin       = 5 * time.Millisecond
	retryMax       = 200 * time.Millisecond
)

// retry calls try until it succeeds or ctx ends, backing off between
// attempts. It is for events nothing notifies us of, such as interest
// reaching the other side of a leaf link.
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

// awaitEcho sends requests to sys's echo until one is echoed, each
// request bounded by timeout (the first may have to find a path).
func awaitEcho(ctx context.Context, nc *nats.Conn, sys system, data []byte, timeout time.Duration) error {
	msg := sys.msg(sys.subj.echo, data)
	return retry(ctx, "waiting for an echo on "+msg.Subject, func(ctx context.Context) error {
		actx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		reply, err := nc.RequestMsgWithContext(actx, msg)
		if err != nil {
			return err
		}
		if !bytes.Equal(reply.Data, data) {
			return fmt.Errorf("reply of %d bytes does not echo the %d sent", len(reply.Data), len(data))
		}
		return nil
	})
}

// awaitProbe publishes probes to sys's counter through pub until it has
// counted one (asked through ctrl), which shows the path is up and interest
// has propagated.
func awaitProbe(ctx context.Context, pub, ctrl *nats.Conn, sys system) error {
	probe := sys.msg(sys.subj.blast, []byte(probeMarker))
	return retry(ctx, "waiting for a probe on "+probe.Subject, func(ctx context.Context) error {
		if err := pub.PublishMsg(probe); err != nil {
			return err
		}
		c, err := askCount(ctx, ctrl, sys, attemptTimeout)
		if err != nil {
			return err
		}
		if c.Probes == 0 {
			return fmt.Errorf("no probe counted yet")
		}
		return nil
	})
}
