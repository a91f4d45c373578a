package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/connector"
)

// onRequest forwards a NATS request on <prefix>.request.<type> to its peer on
// a goroutine of its own, so requests never wait behind each other.
func (b *Bridge) onRequest(m *nats.Msg) {
	if m.Reply == "" {
		b.fail(m, fmt.Errorf("%w: request without a reply subject", ErrBadRequest))
		return
	}
	c := new(call)
	err := b.parseCall(m, verbRequest, c)
	if err == nil && len(c.targets) != 1 {
		err = fmt.Errorf("%w: a request goes to one peer, not %d", ErrBadRequest, len(c.targets))
	}
	if err == nil {
		if err = b.requests.add(); errors.Is(err, ErrBusy) {
			err = fmt.Errorf("%w: %d requests wait for their peers", err, b.cfg.MaxInFlight)
		}
	}
	if err != nil {
		b.fail(m, err)
		return
	}
	go func() {
		defer b.requests.done()
		b.forwardRequest(m, c)
	}()
}

// forwardRequest sends the request and answers m with the peer's reply.
func (b *Bridge) forwardRequest(m *nats.Msg, c *call) {
	ctx, cancel := context.WithTimeout(b.ctx, c.timeout)
	defer cancel()
	start := time.Now()
	o := c.outbound()
	o.Target = c.targets[0]
	reply, err := b.peers.Request(ctx, o)
	b.observeRequest(start, err)
	if err != nil {
		b.fail(m, err)
		return
	}
	b.stats.forwarded.Add(1)
	b.respond(m, replyMsg(reply))
}

// replyMsg is the NATS form of a peer's reply: its headers, but none of the
// bridge's, plus Peer-From, Peer-Path and Peer-Conn.
func replyMsg(r *connector.Reply) *nats.Msg {
	h := withoutBridgeHeaders(r.Headers)
	h.Set(HeaderFrom, r.From.String())
	h.Set(HeaderPath, string(r.Path))
	conn := ConnDialed
	if r.Reused {
		conn = ConnReused
	}
	h.Set(HeaderConn, conn)
	return &nats.Msg{Header: h, Data: r.Payload}
}
