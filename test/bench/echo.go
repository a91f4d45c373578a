package bench

import (
	"context"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
)

// echoQueue is how many requests may wait for the echo responder. Requests
// are sequential, so a few would do; the rest is slack.
const echoQueue = 1024

// echo is a responder that answers every request with its own payload. It
// owns one goroutine, stopped and waited for by close.
type echo struct {
	sub  *nats.Subscription
	quit chan struct{}
	wg   sync.WaitGroup
}

// startEcho subscribes nc to subject and answers requests there until
// close. It returns once the server has registered the subscription.
func startEcho(ctx context.Context, nc *nats.Conn, subject string) (*echo, error) {
	ch := make(chan *nats.Msg, echoQueue)
	sub, err := nc.ChanSubscribe(subject, ch)
	if err != nil {
		return nil, fmt.Errorf("subscribing responder to %s: %w", subject, err)
	}
	if err := flush(ctx, nc); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("registering responder on %s: %w", subject, err)
	}
	e := &echo{sub: sub, quit: make(chan struct{})}
	e.wg.Go(func() { e.serve(ch) })
	return e, nil
}

// serve answers requests from ch until quit is closed.
func (e *echo) serve(ch <-chan *nats.Msg) {
	for {
		select {
		case <-e.quit:
			return
		case m := <-ch:
			// A failed answer shows up as the requester's timeout.
			_ = m.Respond(m.Data)
		}
	}
}

// close unsubscribes and waits for the serving goroutine to return.
func (e *echo) close() {
	_ = e.sub.Unsubscribe()
	close(e.quit)
	e.wg.Wait()
}
