package bridge

import (
	"bytes"
	"fmt"
	"time"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
	"github.com/peerbridge/peerbridge/connector"
)

// call is an outbound message or request read from a NATS message. It
// holds nothing of the NATS message: it outlives the handler.
type call struct {
	msgType string
	targets []connector.Target
	timeout time.Duration
	headers map[string][]string // the headers to forward: all but the bridge's
	payload []byte
	route   connector.NATOptions // from Peer-Relay and Peer-Punch

	target1 [1]connector.Target // where targets of one peer are kept
	own     peerHeaders         // used while parsing only: it points into the NATS message
}

// parseCall reads into c the call in m, received on a subject under verb.
// Only the bridge's headers are parsed; the payload is copied. c must not
// be copied afterwards: its targets may point into it.
func (b *Bridge) parseCall(m *natsconn.Msg, verb string, c *call) error {
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
	own := &c.own
	own.init()
	defer own.init() // drop the slices of m
	rest := splitHeaders(m.Header, own)
	ts, err := b.targets(c.target1[:0], own)
	if err != nil {
		return err
	}
	def := b.cfg.DefaultTimeout
	if len(m.Reply) > 0 { // somebody waits on NATS for the answer
		def = b.cfg.ReplyTimeout
	}
	d, err := timeout(own, def)
	if err != nil {
		return err
	}
	route, err := routeOptions(own)
	if err != nil {
		return err
	}
	c.msgType, c.targets, c.timeout, c.headers, c.route = typ, ts, d, rest, route
	c.payload = bytes.Clone(m.Data)
	return nil
}

// outbound is the connector's form of c, without a target: the caller's
// context carries the timeout.
func (c *call) outbound() connector.Outbound {
	return connector.Outbound{Type: c.msgType, Payload: c.payload, Headers: c.headers, Route: c.route}
}

// fail counts a failed outbound message or request and answers it with the
// error on reply, or logs the error if there is no reply subject.
func (b *Bridge) fail(subject, reply string, err error) {
	b.failFor(subject, reply, "", err)
}

// failFor is fail for a message to peer.
func (b *Bridge) failFor(subject, reply, peer string, err error) {
	b.stats.failed.Add(1)
	b.observeFailed(subject, peer, err)
	if reply == "" {
		b.dropped(subject, peer, err)
		return
	}
	b.respond(subject, reply, errorMsg(err))
}

// failMsg is fail for the message m, during its handler.
func (b *Bridge) failMsg(m *natsconn.Msg, err error) {
	b.fail(string(m.Subject), string(m.Reply), err)
}

// respond publishes out on reply, the reply subject of a message on
// subject. A reply NATS cannot carry for its size still reaches the
// requester, as a 413 from the same peer.
func (b *Bridge) respond(subject, reply string, out answer) {
	err := b.hot.publish(reply, "", out.header, out.data)
	if isMaxPayload(err) {
		em := errorMsg(fmt.Errorf("%w: reply of %d bytes exceeds the NATS limit", ErrTooLarge, len(out.data)))
		if from, ok := out.header.Get(HeaderFrom); ok {
			em.header = natsconn.AppendHeader(em.header, HeaderFrom, string(from))
		}
		err = b.hot.publish(reply, "", em.header, nil)
	}
	if err != nil {
		b.log.Warn("cannot answer on the reply subject", "subject", subject, "reply", reply, "err", err)
	}
}

// maySend refuses a message of type typ that this node's own credential
// does not allow it to cause at a peer: the peer would refuse it (403), so
// it is refused here without a packet sent. The subject checked is the one
// a peer with the same prefix publishes the type on.
func (b *Bridge) maySend(typ string) error {
	if b.cfg.Access == nil || b.cfg.Access.MaySend(b.cfg.Prefix, typ) {
		return nil
	}
	return fmt.Errorf("%w: this node's credential does not allow type %q", ErrForbidden, typ)
}
