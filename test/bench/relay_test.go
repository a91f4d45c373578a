package bench_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/peerbridge/peerbridge/test/bench"
)

// relayNode is the Peer-Node header value the relay setup requires.
const relayNode = "node-b"

// relaySetup imitates peerbridge's subjects on one nats-server: a relay
// forwards requests on peer.request.<type> to peer.recv.<type> and
// messages on peer.send.<type> to peer.recv.<type>, insisting on the
// Peer-Node header. It stands in for setup (c) in tests.
type relaySetup struct {
	srv                    *bench.Server
	requester, responder   *nats.Conn
	relay                  *nats.Conn
	subs                   []*nats.Subscription
	cancel                 context.CancelFunc
	wg                     sync.WaitGroup
	missingHeader, relayed atomic.Int64
}

// newRelaySetup is a bench.SetupFunc.
func newRelaySetup(ctx context.Context) (bench.Setup, error) {
	srv, err := bench.StartServer(ctx, bench.ServerConfig{Name: "relay"})
	if err != nil {
		return nil, err
	}
	r := &relaySetup{srv: srv, cancel: func() {}}
	if err := r.start(ctx); err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

// relaySetups lets a test see the relay it made.
func relaySetups(made *[]*relaySetup) bench.SetupFunc {
	return func(ctx context.Context) (bench.Setup, error) {
		s, err := newRelaySetup(ctx)
		if err == nil {
			*made = append(*made, s.(*relaySetup))
		}
		return s, err
	}
}

func (r *relaySetup) start(ctx context.Context) error {
	var err error
	for _, c := range []struct {
		conn **nats.Conn
		name string
	}{{&r.requester, "requester"}, {&r.responder, "responder"}, {&r.relay, "relay"}} {
		if *c.conn, err = r.srv.Connect(ctx, c.name); err != nil {
			return err
		}
	}
	ch := make(chan *nats.Msg, 1<<15)
	for _, subj := range []string{"peer.request.>", "peer.send.>"} {
		sub, err := r.relay.ChanSubscribe(subj, ch)
		if err != nil {
			return err
		}
		r.subs = append(r.subs, sub)
	}
	if err := r.relay.FlushWithContext(ctx); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Go(func() { r.serve(runCtx, ch) })
	return nil
}

// serve relays messages from ch until ctx ends.
func (r *relaySetup) serve(ctx context.Context, ch <-chan *nats.Msg) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-ch:
			r.forward(ctx, m)
		}
	}
}

// forward relays one message or request.
func (r *relaySetup) forward(ctx context.Context, m *nats.Msg) {
	if m.Header.Get("Peer-Node") != relayNode {
		r.missingHeader.Add(1)
		return
	}
	r.relayed.Add(1)
	if typ, ok := strings.CutPrefix(m.Subject, "peer.send."); ok {
		_ = r.relay.Publish("peer.recv."+typ, m.Data)
		return
	}
	typ := strings.TrimPrefix(m.Subject, "peer.request.")
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	reply, err := r.relay.RequestWithContext(rctx, "peer.recv."+typ, m.Data)
	if err == nil {
		_ = m.Respond(reply.Data)
	}
}

func (r *relaySetup) Name() string                     { return "peerbridge" }
func (r *relaySetup) Requester() *nats.Conn            { return r.requester }
func (r *relaySetup) Responder() *nats.Conn            { return r.responder }
func (r *relaySetup) RequestSubject(typ string) string { return "peer.request." + typ }
func (r *relaySetup) ServeSubject(typ string) string   { return "peer.recv." + typ }
func (r *relaySetup) SendSubject(typ string) string    { return "peer.send." + typ }
func (r *relaySetup) Headers() nats.Header             { return nats.Header{"Peer-Node": {relayNode}} }

func (r *relaySetup) Close() error {
	for _, sub := range r.subs {
		_ = sub.Unsubscribe()
	}
	r.cancel()
	r.wg.Wait()
	for _, nc := range []*nats.Conn{r.requester, r.responder, r.relay} {
		if nc != nil {
			nc.Close()
		}
	}
	r.srv.Stop()
	return nil
}
