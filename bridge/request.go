package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
	"github.com/peerbridge/peerbridge/connector"
)

// onRequest forwards a NATS request on <prefix>.request.<type> to its peer on
// a goroutine of its own, so requests never wait behind each other.
func (b *Bridge) onRequest(m *natsconn.Msg) {
	if len(m.Reply) == 0 {
		b.failMsg(m, fmt.Errorf("%w: request without a reply subject", ErrBadRequest))
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
		b.failMsg(m, err)
		return
	}
	subject, reply := string(m.Subject), string(m.Reply)
	go func() {
		defer b.requests.done()
		b.forwardRequest(subject, reply, c)
	}()
}

// forwardRequest sends the request and answers on reply with the peer's
// answer.
func (b *Bridge) forwardRequest(subject, reply string, c *call) {
	ctx, cancel := context.WithTimeout(b.ctx, c.timeout)
	defer cancel()
	start := time.Now()
	o := c.outbound()
	o.Target = c.targets[0]
	r, err := b.peers.Request(ctx, o)
	b.observeRequest(start, err)
	if err != nil {
		b.failFor(subject, reply, o.Target.String(), err)
		return
	}
	b.stats.forwarded.Add(1)
	b.respond(subject, reply, replyMsg(r))
}

// replyMsg is the NATS form of a peer's reply: its headers, but none of the
// bridge's, plus Peer-From, Peer-Path and Peer-Conn. A reply whose headers
// NATS cannot carry (a name with a space or a colon, an empty name) is a
// 502 from the same peer.
func replyMsg(r *connector.Reply) answer {
	h, err := appendHeaders(nil, r.Headers)
	if err != nil {
		err = fmt.Errorf("%w: its headers cannot be carried by NATS: %w", ErrBadReply, err)
		code, text := codeOf(err)
		return errorMsg(&connector.RemoteError{Code: code, Text: text, From: r.From})
	}
	h = natsconn.AppendHeader(h, HeaderFrom, r.From.String())
	h = natsconn.AppendHeader(h, HeaderPath, string(r.Path))
	conn := ConnDialed
	if r.Reused {
		conn = ConnReused
	}
	return answer{header: natsconn.AppendHeader(h, HeaderConn, conn), data: r.Payload}
}
