package bridge

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/connector"
)

// call is an outbound message or request read from a NATS message.
type call struct {
	msgType string
	targets []connector.Target
	timeout time.Duration
	headers map[string][]string // the headers to forward: all but the bridge's
	payload []byte
	route   connector.NATOptions // from Peer-Relay and Peer-Punch

	target1 [1]connector.Target // where targets of one peer are kept
}

// parseCall reads into c the call in m, received on a subject under verb.
// c must not be copied afterwards: its targets may point into it.
func (b *Bridge) parseCall(m *nats.Msg, verb string, c *call) error {
	typ, err := b.typeOf(m.Subject, verb)
	if err != nil {
		return err
	}
	if err := b.maySend(typ); err != nil {
		return err
	}
	if len(m.Data) > b.cfg.MaxPayload {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(m.Data), b.cfg.MaxPayload)
	}
	own, rest := splitHeaders(m.Header)
	ts, err := targets(c.target1[:0], own, b.cfg.MaxTargets)
	if err != nil {
		return err
	}
	d, err := timeout(own, b.cfg.DefaultTimeout)
	if err != nil {
		return err
	}
	route, err := routeOptions(own)
	if err != nil {
		return err
	}
	c.msgType, c.targets, c.timeout, c.headers, c.payload, c.route = typ, ts, d, rest, m.Data, route
	return nil
}

// outbound is the connector's form of c, without a target: the caller's
// context carries the timeout.
func (c *call) outbound() connector.Outbound {
	return connector.Outbound{Type: c.msgType, Payload: c.payload, Headers: c.headers, Route: c.route}
}

// fail counts a failed outbound message or request and answers it with the
// error, or logs the error if nobody waits for an answer.
func (b *Bridge) fail(m *nats.Msg, err error) {
	b.stats.failed.Add(1)
	b.observeFailed(err)
	if m.Reply == "" {
		b.dropped(m.Subject, m.Header.Get(HeaderNode), err)
		return
	}
	b.respond(m, errorMsg(err))
}

// respond publishes out on m's reply subject. A reply NATS cannot carry
// still reaches the requester, as an error from the same peer: one too
// large for NATS as a 413, one whose headers NATS cannot encode (a name
// with a space or a colon, an empty name) as a 502.
func (b *Bridge) respond(m *nats.Msg, out *nats.Msg) {
	err := m.RespondMsg(out)
	var alt error
	switch {
	case errors.Is(err, nats.ErrMaxPayload):
		alt = fmt.Errorf("%w: reply of %d bytes exceeds the NATS limit", ErrTooLarge, len(out.Data))
	case errors.Is(err, nats.ErrBadHeaderMsg):
		alt = fmt.Errorf("%w: its headers cannot be carried by NATS: %w", ErrBadReply, err)
	}
	if alt != nil {
		em := errorMsg(alt)
		if from := out.Header.Get(HeaderFrom); from != "" {
			em.Header.Set(HeaderFrom, from)
		}
		err = m.RespondMsg(em)
	}
	if err != nil {
		b.log.Warn("cannot answer on the reply subject", "subject", m.Subject, "reply", m.Reply, "err", err)
	}
}
