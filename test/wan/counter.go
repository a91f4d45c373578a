package wan

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// probeMarker is the payload of readiness probes, which the counter counts
// apart from messages.
const probeMarker = "wan-probe"

// Bounds of the counting subscription's client-side buffer. The publisher's
// window keeps far fewer messages in flight; these only keep the client
// from dropping any as a slow consumer.
const (
	pendingMsgs  = 1 << 20
	pendingBytes = 1 << 30
)

// countReply is the counter's answer to a count request.
type countReply struct {
	// Count is how many messages arrived, probes excluded.
	Count int64 `json:"count"`
	// Probes is how many probes arrived.
	Probes int64 `json:"probes"`
	// Last is when the last counted message arrived, in Unix nanoseconds
	// (both sides run on one machine, so one clock); 0 if none.
	Last int64 `json:"last"`
}

// counter counts messages on one subject and answers count requests. Its
// subscriptions' goroutines belong to the NATS connection.
type counter struct {
	count, probes, last atomic.Int64
}

// serveServices subscribes nc to s's echo, blast and count subjects, and
// waits until the server has registered them.
func serveServices(nc *nats.Conn, s subjects) error {
	c := &counter{}
	if _, err := nc.Subscribe(s.echo, func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		return fmt.Errorf("wan: subscribing echo to %s: %w", s.echo, err)
	}
	sub, err := nc.Subscribe(s.blast, c.arrive)
	if err != nil {
		return fmt.Errorf("wan: subscribing counter to %s: %w", s.blast, err)
	}
	if err := sub.SetPendingLimits(pendingMsgs, pendingBytes); err != nil {
		return fmt.Errorf("wan: counter limits: %w", err)
	}
	if _, err := nc.Subscribe(s.count, c.answer); err != nil {
		return fmt.Errorf("wan: subscribing count to %s: %w", s.count, err)
	}
	if err := nc.Flush(); err != nil {
		return fmt.Errorf("wan: registering services: %w", err)
	}
	return nil
}

// arrive counts one message.
func (c *counter) arrive(m *nats.Msg) {
	if string(m.Data) == probeMarker {
		c.probes.Add(1)
		return
	}
	c.last.Store(time.Now().UnixNano())
	c.count.Add(1)
}

// answer replies to a count request with the counts so far.
func (c *counter) answer(m *nats.Msg) {
	r := countReply{Count: c.count.Load(), Probes: c.probes.Load(), Last: c.last.Load()}
	b, err := json.Marshal(r)
	if err != nil {
		return // cannot happen for this type; the requester times out
	}
	_ = m.Respond(b)
}
