package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// Peers is what the bridge needs from the peer connector.
type Peers interface {
	// SendAsync queues a message for its target without blocking, in
	// order per target, and calls done exactly once, without blocking,
	// when the peer acknowledged it or the send failed.
	SendAsync(ctx context.Context, o connector.Outbound, done func(connector.Result))
	// Request sends a request and waits for the reply.
	Request(ctx context.Context, o connector.Outbound) (*connector.Reply, error)
}

var (
	_ Peers             = (*connector.Connector)(nil)
	_ connector.Handler = (*Bridge)(nil)
)

// Bridge forwards between a NATS connection and peers. Make it with New,
// subscribe with Start, stop with Stop; pass it to the connector's
// SetHandler to deliver what peers send.
type Bridge struct {
	cfg   Config
	nc    *nats.Conn // the hot path without Config.Dial
	hot   hotPath    // set by New, or by Start with Config.Dial
	peers Peers
	log   *slog.Logger
	stats counters
	obs   atomic.Pointer[Observer]

	sendCtx  sharedContext // outbound messages' contexts
	waiting  waitList      // outbound messages with the default timeout, for their expiry
	requests tracker       // outbound requests waiting for their peers
	sends    tracker       // outbound messages waiting for acknowledgement
	inbound  tracker       // ServePeer calls in progress

	outType   memo[string, string]          // the last outbound type checked
	recvSubj  memo[string, string]          // the last inbound type's subject
	fromBlock memo[identity.NodeID, []byte] // the last sender's Peer-From header block
	lastTo    atomic.Pointer[targetMemo]    // the last target read from headers
	ackOne    []byte                        // ackOne, never modified

	mu   sync.Mutex // guards subs and started
	subs []hotSub
	// replies carries requests to local services; replySub is its
	// subscription, kept until what is in progress has ended.
	replies  *replyMux
	replySub hotSub
	started  bool // Start succeeded; never reset, so a stopped bridge stays stopped

	// ctx is the bridge's lifetime, set by Start and read-only afterwards;
	// cancel ends what is still in progress when Stop's grace period is up.
	ctx    context.Context
	cancel context.CancelFunc
}

// New returns a bridge between nc and peers. It does no I/O: Start
// subscribes. With Config.Dial, the hot path runs on connections of its
// own and nc serves nothing of the bridge's.
func New(cfg Config, nc *nats.Conn, peers Peers, log *slog.Logger) (*Bridge, error) {
	cfg.populate()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if nc == nil || peers == nil {
		return nil, errors.New("bridge: nil NATS connection or peers")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Serve = maps.Clone(cfg.Serve)
	b := &Bridge{cfg: cfg, nc: nc, peers: peers, log: log, ackOne: []byte(ackOne), replies: newReplyMux()}
	if cfg.Dial == nil {
		b.hot = natsGoPath{nc}
	}
	b.requests.limit = cfg.MaxInFlight
	b.sends.limit = cfg.MaxSends
	b.waiting.timeout = cfg.DefaultTimeout
	return b, nil
}

// Start subscribes to the send and request subjects and returns once the
// NATS server has them. ctx bounds only the start itself.
func (b *Bridge) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started || b.ctx != nil {
		return errors.New("bridge: already started")
	}
	if b.cfg.Dial != nil {
		hot, err := openDirect(ctx, b.cfg.Dial, b.log)
		if err != nil {
			return err
		}
		b.hot = hot
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	context.AfterFunc(b.ctx, b.waiting.close)
	b.startTrackers()
	if err := b.subscribeLocked(ctx); err != nil {
		b.abortStartLocked()
		return err
	}
	b.started = true
	b.log.Info("bridge started", "send", b.wildcard(verbSend), "request", b.wildcard(verbRequest), "queue", b.cfg.QueueGroup)
	return nil
}

func (b *Bridge) startTrackers() {
	b.requests.start()
	b.sends.start()
	b.inbound.start()
}

func (b *Bridge) subscribeLocked(ctx context.Context) error {
	sub, err := b.hot.subscribe(b.replies.subject(), "", b.replies.deliver)
	if err != nil {
		return fmt.Errorf("bridge: subscribing to %s: %w", b.replies.subject(), err)
	}
	b.replySub = sub
	handlers := []struct {
		verb string
		cb   natsconn.Handler
	}{{verbSend, b.onSend}, {verbRequest, b.onRequest}}
	for _, h := range handlers {
		sub, err := b.hot.subscribe(b.wildcard(h.verb), b.cfg.QueueGroup, h.cb)
		if err != nil {
			return fmt.Errorf("bridge: subscribing to %s: %w", b.wildcard(h.verb), err)
		}
		b.subs = append(b.subs, sub)
	}
	return b.flush(ctx)
}

// flush waits until the server has processed the subscriptions.
func (b *Bridge) flush(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.cfg.DefaultTimeout)
		defer cancel()
	}
	if err := b.hot.flush(ctx); err != nil {
		return fmt.Errorf("bridge: flushing subscriptions: %w", err)
	}
	return nil
}

func (b *Bridge) abortStartLocked() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // drop the subscriptions at once
	drain(ctx, b.subs)
	b.subs = nil
	b.dropReplies()
	b.closeTrackers()
	b.cancel()
	b.hot.close()
}

// dropReplies ends the replies' subscription, once nothing waits for one.
func (b *Bridge) dropReplies() {
	if b.replySub == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // at once
	b.replySub.drain(ctx)
	b.replySub = nil
}

func (b *Bridge) closeTrackers() []<-chan struct{} {
	return []<-chan struct{}{b.requests.close(), b.sends.close(), b.inbound.close()}
}

// Stop stops taking messages from NATS and from peers, lets what is in
// progress finish until ctx is done, then cancels what is left and waits for
// it to end. It returns an error if the grace period ran out.
func (b *Bridge) Stop(ctx context.Context) error {
	subs, ok := b.beginStop()
	if !ok {
		return nil
	}
	errDrain := drain(ctx, subs)
	idle := b.closeTrackers()
	errWait := waitAll(ctx, idle)
	b.cancel()
	for _, ch := range idle {
		<-ch // prompt: everything in progress watches the cancelled lifetime
	}
	b.dropReplies()
	errClose := b.hot.close() // the answers sent by now are written
	st := b.Stats()
	b.log.Info("bridge stopped", "forwarded", st.Forwarded, "failed", st.Failed, "inbound", st.Inbound, "inbound_failed", st.InboundFailed, "forbidden", st.Forbidden)
	if err := errors.Join(errDrain, errWait, errClose); err != nil {
		return fmt.Errorf("bridge: stop: %w", err)
	}
	return nil
}

// beginStop takes the subscriptions, once; ok is false if there is nothing
// to stop.
func (b *Bridge) beginStop() (subs []hotSub, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	subs, b.subs = b.subs, nil
	ok = b.started
	b.started = false
	return subs, ok
}

// drain drains subs at once and waits until the messages already
// delivered to them are handled. If ctx ends first, or the connection to
// NATS is lost (no server can confirm a drain then, and nothing more can
// arrive), the subscriptions are dropped at once.
func drain(ctx context.Context, subs []hotSub) error {
	errs := make([]error, len(subs))
	var wg sync.WaitGroup
	for i, sub := range subs {
		wg.Go(func() { errs[i] = sub.drain(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// NATSErr says why the hot path's NATS connection is down, nil while it
// is up. With Config.Dial the bridge reconnects by itself; on nats.go, the
// connection does. Before Start it is nil.
func (b *Bridge) NATSErr() error {
	b.mu.Lock()
	hot := b.hot
	b.mu.Unlock()
	if hot == nil {
		return nil
	}
	return hot.err()
}

func waitAll(ctx context.Context, chs []<-chan struct{}) error {
	for _, ch := range chs {
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for work in progress: %w", ctx.Err())
		}
	}
	return nil
}
