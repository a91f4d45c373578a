package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
	"github.com/peerbridge/peerbridge/connector"
)

// onSend forwards a NATS message on <prefix>.send.<type> to its peers. It
// only parses, checks and queues the message once per peer (the payload
// copied once, then shared), and returns without waiting for the peers: each
// peer's queue has a worker in the connector, so a slow or dead peer delays
// only its own messages. Messages from one subscription reach each peer in
// order.
func (b *Bridge) onSend(m *natsconn.Msg) {
	s := &sending{b: b}
	c := &s.c
	err := b.parseCall(m, verbSend, c)
	if err == nil {
		if err = b.sends.add(); errors.Is(err, ErrBusy) {
			err = fmt.Errorf("%w: %d messages wait for acknowledgement", err, b.cfg.MaxSends)
		}
	}
	if err != nil {
		b.failMsg(m, err)
		return
	}
	if len(m.Reply) > 0 {
		s.reply = string(m.Reply)
	}
	ctx, cancel := b.sendCtx.get(b.ctx, c.timeout, b.cfg.DefaultTimeout)
	s.cancel, s.left = cancel, len(c.targets)
	s.res, s.known = s.res1[:], s.known1[:]
	if len(c.targets) > 1 {
		s.res, s.known = make([]connector.Result, len(c.targets)), make([]bool, len(c.targets))
	}
	if c.timeout == b.cfg.DefaultTimeout {
		if !b.waiting.add(s) {
			s.expire(context.Canceled)
			return
		}
	} else {
		s.mu.Lock() // expire may run at once; it waits for stop to be set
		s.stop = context.AfterFunc(ctx, func() { s.expire(ctx.Err()) })
		s.mu.Unlock()
	}
	for i, t := range c.targets {
		if ctx.Err() != nil {
			break // expire fails the rest
		}
		o := c.outbound()
		o.Target = t
		b.peers.SendAsync(ctx, o, func(r connector.Result) { s.finish(i, r) })
	}
}

// sending is one outbound message waiting for its peers' acknowledgements.
// It ends when every peer acknowledged or failed, or the timeout ran out.
type sending struct {
	b      *Bridge
	reply  string // the reply subject; empty: none
	c      call
	cancel context.CancelFunc
	link   waitLink // in the bridge's waitList, for the default timeout

	mu    sync.Mutex         // guards every field below
	stop  func() bool        // unregisters expire, for another timeout; else nil
	res   []connector.Result // outcome per target
	known []bool             // whether res[i] is set
	left  int                // targets not yet known

	res1   [1]connector.Result // res and known of a message to one peer
	known1 [1]bool
}

// sharedContext hands sends with the default timeout one context between
// them, renewed every hundredth of the timeout: each send so gets at least
// 99% of its timeout without a context and timer of its own. Sends with
// another timeout (a Peer-Timeout header) get their own.
type sharedContext struct {
	mu      sync.Mutex // guards every field below
	ctx     context.Context
	cancel  context.CancelFunc // kept, not called: see get
	renewAt time.Time
}

// get returns the context a send with timeout d runs under, made from
// parent, and the function that releases it.
func (sc *sharedContext) get(parent context.Context, d, def time.Duration) (context.Context, context.CancelFunc) {
	if d != def {
		return context.WithTimeout(parent, d)
	}
	now := time.Now()
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.ctx == nil || now.After(sc.renewAt) {
		// A shared context ends by its deadline or with parent, never by
		// cancel: the one replaced here lives on for the sends holding it.
		sc.ctx, sc.cancel = context.WithDeadline(parent, now.Add(d))
		sc.renewAt = now.Add(d / 100)
	}
	return sc.ctx, func() {}
}

// finish records target i's outcome and completes the message after the
// last one. Later outcomes for the same target are ignored.
func (s *sending) finish(i int, r connector.Result) {
	if s.record(i, r) {
		s.complete()
	}
}

// record reports whether it recorded the last outstanding outcome.
func (s *sending) record(i int, r connector.Result) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known[i] {
		return false
	}
	s.known[i], s.res[i] = true, r
	s.left--
	return s.left == 0
}

// expire fails every target still waiting once the context is done: by
// timeout, or because the bridge stopped.
func (s *sending) expire(cause error) {
	err := fmt.Errorf("%w: waiting for acknowledgement", connector.ErrTimeout)
	if errors.Is(cause, context.Canceled) {
		err = fmt.Errorf("%w: waiting for acknowledgement", ErrNotRunning)
	}
	for i := range s.res {
		s.finish(i, connector.Result{Err: err})
	}
}

// complete counts the outcomes and answers on the reply subject, or logs
// the failures if there is none.
func (s *sending) complete() {
	s.mu.Lock()
	stop := s.stop
	s.mu.Unlock()
	if stop != nil {
		stop()
	} else {
		s.b.waiting.remove(s)
	}
	s.cancel()
	defer s.b.sends.done()
	for i, r := range s.res {
		s.b.count(s.subject(), s.c.targets[i].String(), r.Err)
		if r.Err != nil && s.reply == "" {
			s.b.dropped(s.subject(), s.c.targets[i].String(), r.Err)
		}
	}
	if s.reply != "" {
		s.b.respond(s.subject(), s.reply, s.b.ackMsg(s.c.targets, s.res))
	}
}

// subject is the subject the message came on.
func (s *sending) subject() string {
	return s.b.cfg.Prefix + "." + verbSend + "." + s.c.msgType
}

// count counts one peer's outcome for the message on subject.
func (b *Bridge) count(subject, peer string, err error) {
	if err != nil {
		b.stats.failed.Add(1)
		b.observeFailed(subject, peer, err)
	} else {
		b.stats.forwarded.Add(1)
	}
}
