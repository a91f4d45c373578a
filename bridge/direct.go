package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
)

// Bounds of directPath's reconnection.
const (
	directDialTimeout = 5 * time.Second
	directRetryFirst  = 10 * time.Millisecond
	directRetryMax    = time.Second
	directCloseFlush  = time.Second
)

// directPath is the hot path speaking the NATS protocol itself (package
// natsconn) over the connections its dial function makes, such as
// in-process connections to the embedded server. A natsconn.Conn does not
// reconnect, so directPath does: when its connection is lost (the server
// cut off a slow consumer, say), it dials again, at once and then backing
// off, and subscribes anew. Until then publishes fail, so the peers and
// requesters concerned learn it, and err says why.
type directPath struct {
	dial func(context.Context) (net.Conn, error)
	opts natsconn.Options
	log  *slog.Logger
	conn atomic.Pointer[natsconn.Conn] // the latest; closed while reconnecting

	mu   sync.Mutex // guards subs
	subs []*directSub

	ctx    context.Context // the path's lifetime, ended by close
	cancel context.CancelFunc
	done   chan struct{} // closed when watch has returned
}

var _ hotPath = (*directPath)(nil)

// openDirect connects, bounded by ctx, and starts watching the connection.
func openDirect(ctx context.Context, dial func(context.Context) (net.Conn, error), log *slog.Logger) (*directPath, error) {
	p := &directPath{dial: dial, log: log, done: make(chan struct{})}
	p.opts = natsconn.Options{Name: "peerbridge", ErrorHandler: p.serverError}
	c, err := p.connect(ctx)
	if err != nil {
		return nil, err
	}
	p.conn.Store(c)
	p.ctx, p.cancel = context.WithCancel(context.Background())
	go p.watch()
	return p, nil
}

func (p *directPath) connect(ctx context.Context) (*natsconn.Conn, error) {
	nc, err := p.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("bridge: connecting to NATS: %w", err)
	}
	c, err := natsconn.New(ctx, nc, p.opts)
	if err != nil {
		return nil, fmt.Errorf("bridge: connecting to NATS: %w", err)
	}
	return c, nil
}

func (p *directPath) serverError(err error) {
	p.log.Warn("nats error", "err", err)
}

// watch reconnects whenever the connection is lost, until close.
func (p *directPath) watch() {
	defer close(p.done)
	for {
		c := p.conn.Load()
		select {
		case <-p.ctx.Done():
			return
		case <-c.Done():
		}
		p.log.Warn("nats connection lost; reconnecting", "err", c.Err())
		if !p.reconnect() {
			return
		}
		p.log.Info("nats reconnected")
	}
}

// reconnect dials until it has a connection with every subscription on
// it, or the path is closed; it reports whether it has one.
func (p *directPath) reconnect() bool {
	wait := directRetryFirst
	for {
		ctx, cancel := context.WithTimeout(p.ctx, directDialTimeout)
		c, err := p.connect(ctx)
		cancel()
		if err == nil {
			p.conn.Store(c) // publishes go here from now on, answers too
			if err = p.resubscribe(c); err == nil {
				return true
			}
			c.Close()
		}
		p.log.Debug("nats reconnect failed", "err", err)
		select {
		case <-p.ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, directRetryMax)
	}
}

// resubscribe makes every subscription not yet drained again on c.
func (p *directPath) resubscribe(c *natsconn.Conn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.subs {
		if s.drained {
			continue
		}
		sub, err := c.Subscribe(s.subject, s.queue, s.h)
		if err != nil {
			return err
		}
		s.cur = sub
	}
	return nil
}

func (p *directPath) subscribe(subject, queue string, h natsconn.Handler) (hotSub, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sub, err := p.conn.Load().Subscribe(subject, queue, h)
	if err != nil {
		return nil, err
	}
	s := &directSub{p: p, subject: subject, queue: queue, h: h, cur: sub}
	p.subs = append(p.subs, s)
	return s, nil
}

func (p *directPath) publish(subject, reply string, header, data []byte) error {
	return p.conn.Load().Publish(subject, reply, header, data)
}

func (p *directPath) flush(ctx context.Context) error {
	return p.conn.Load().Flush(ctx)
}

func (p *directPath) err() error { return p.conn.Load().Err() }

// close stops reconnecting, then closes the connection once the server
// has read what is buffered, or after directCloseFlush.
func (p *directPath) close() error {
	p.cancel()
	<-p.done
	c := p.conn.Load()
	ctx, cancel := context.WithTimeout(context.Background(), directCloseFlush)
	defer cancel()
	c.Flush(ctx) // best effort: a lost connection has nothing left to flush
	return c.Close()
}

// directSub is a subscription of a directPath, made anew on every
// connection until it is drained.
type directSub struct {
	p       *directPath
	subject string
	queue   string
	h       natsconn.Handler

	cur     *natsconn.Subscription // guarded by p.mu
	drained bool                   // guarded by p.mu
}

func (s *directSub) drain(ctx context.Context) error {
	s.p.mu.Lock()
	s.drained = true
	sub := s.cur
	s.p.mu.Unlock()
	err := sub.Drain(ctx)
	if ctx.Err() != nil {
		return fmt.Errorf("draining %s: %w", s.subject, ctx.Err())
	}
	if err != nil && !errors.Is(err, natsconn.ErrClosed) {
		s.p.log.Debug("drain cut short: nats connection lost", "subject", s.subject, "err", err)
	}
	return nil
}
