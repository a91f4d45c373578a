package connector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// TestConcurrentRequests: 1,000 concurrent requests spread over 10 peers
// all get their own payload back, over exactly one dial per peer.
func TestConcurrentRequests(t *testing.T) {
	const peers, requests = 10, 1000
	a, _ := startNode(t, Config{})
	bs := startNodes(t, peers, Config{})
	ctx := testCtx(t)
	errs := make(chan error, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			b := bs[i%peers]
			want := fmt.Appendf(nil, "request %d", i)
			r, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "echo", Payload: want})
			switch {
			case err != nil:
				errs <- fmt.Errorf("request %d: %w", i, err)
			case !bytes.Equal(r.Payload, want) || r.From != b.NodeID():
				errs <- fmt.Errorf("request %d: reply %q from %s", i, r.Payload, r.From.Short())
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s := a.Stats(); s.Dials != peers || s.Conns != peers || s.PoolHits+s.PoolMisses != requests {
		t.Fatalf("stats %+v, want %d dials and connections", s, peers)
	}
}

// TestPoolReuse: a second send to a peer takes the pooled connection.
func TestPoolReuse(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, _ := startNode(t, Config{})
	ctx := testCtx(t)
	for i := range 3 {
		if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "x"}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if s := a.Stats(); s.Dials != 1 || s.PoolMisses != 1 || s.PoolHits != 2 || s.Conns != 1 {
		t.Fatalf("stats %+v, want 1 dial and 2 pool hits", s)
	}
}

// TestSingleFlightDial: concurrent first sends to one new peer dial once.
func TestSingleFlightDial(t *testing.T) {
	const senders = 100
	tests := []struct {
		name   string
		target func(b *Connector) Target
	}{
		{"node ID and endpoint", targetOf},
		{"endpoint only", func(b *Connector) Target { return Target{Endpoint: b.Addr().String()} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := startNode(t, Config{})
			b, _ := startNode(t, Config{})
			ctx := testCtx(t)
			start := make(chan struct{})
			errs := make(chan error, senders)
			var wg sync.WaitGroup
			for range senders {
				wg.Go(func() {
					<-start
					errs <- a.Send(ctx, Outbound{Target: tt.target(b), Type: "x"})
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("send: %v", err)
				}
			}
			if s := a.Stats(); s.Dials != 1 || s.Conns != 1 {
				t.Fatalf("stats %+v, want exactly 1 dial", s)
			}
		})
	}
}

// TestBothDirectionsShareConnection: the peer answers over the inbound
// connection, knowing only the node ID.
func TestBothDirectionsShareConnection(t *testing.T) {
	a, gotA := startNode(t, Config{})
	b, gotB := startNode(t, Config{})
	ctx := testCtx(t)
	if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "hello"}); err != nil {
		t.Fatal(err)
	}
	recv(t, gotB)
	if err := b.Send(ctx, Outbound{Target: Target{NodeID: a.NodeID()}, Type: "hello back"}); err != nil {
		t.Fatalf("send back by node ID: %v", err)
	}
	if m := recv(t, gotA); m.From != b.NodeID() || m.Type != "hello back" {
		t.Fatalf("got %+v", m)
	}
	r, err := b.Request(ctx, Outbound{Target: Target{NodeID: a.NodeID()}, Type: "echo", Payload: []byte("q")})
	if err != nil || !r.Reused || string(r.Payload) != "q" {
		t.Fatalf("request back: %+v, %v", r, err)
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.Dials != 1 || sb.Dials != 0 || sb.PoolHits != 2 || sa.Conns != 1 || sb.Conns != 1 {
		t.Fatalf("stats a %+v, b %+v; want one connection dialled by a", sa, sb)
	}
}

// TestEndpointTargetLearnsNodeID: after a send to an endpoint, the node
// that answered there is known by its ID.
func TestEndpointTargetLearnsNodeID(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, _ := startNode(t, Config{})
	ctx := testCtx(t)
	if err := a.Send(ctx, Outbound{Target: Target{Endpoint: b.Addr().String()}, Type: "x"}); err != nil {
		t.Fatal(err)
	}
	r, err := a.Request(ctx, Outbound{Target: Target{NodeID: b.NodeID()}, Type: "echo"})
	if err != nil || r.From != b.NodeID() || !r.Reused {
		t.Fatalf("request by node ID: %+v, %v", r, err)
	}
	if err := a.Send(ctx, Outbound{Target: Target{Endpoint: b.Addr().String()}, Type: "x"}); err != nil {
		t.Fatal(err)
	}
	if s := a.Stats(); s.Dials != 1 || s.PoolHits != 2 {
		t.Fatalf("stats %+v, want 1 dial and 2 pool hits", s)
	}
}

// TestEndpointTargetRedials: once the connection to an endpoint-only
// target is gone, the node ID it proved can still be dialled by ID.
func TestEndpointTargetRedials(t *testing.T) {
	a, _ := startNode(t, Config{IdleTimeout: 100 * time.Millisecond})
	b, _ := startNode(t, Config{})
	ctx := testCtx(t)
	if err := a.Send(ctx, Outbound{Target: Target{Endpoint: b.Addr().String()}, Type: "x"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the idle connection to close", func() bool { return a.Stats().Conns == 0 })
	if err := a.Send(ctx, Outbound{Target: Target{NodeID: b.NodeID()}, Type: "x"}); err != nil {
		t.Fatalf("send by the learnt node ID: %v", err)
	}
	if s := a.Stats(); s.Dials != 2 {
		t.Fatalf("stats %+v, want 2 dials", s)
	}
}

// TestIdleEviction: a connection idle for Config.IdleTimeout is closed on
// both sides, and the next send dials again.
func TestIdleEviction(t *testing.T) {
	a, _ := startNode(t, Config{IdleTimeout: 200 * time.Millisecond})
	b, _ := startNode(t, Config{})
	ctx := testCtx(t)
	if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "x"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the idle connection to close", func() bool { return a.Stats().Conns == 0 })
	waitFor(t, "the peer to see it close", func() bool { return b.Stats().Conns == 0 })
	if s := a.Stats(); s.Evictions != 1 {
		t.Fatalf("stats %+v, want 1 eviction", s)
	}
	if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "x"}); err != nil {
		t.Fatal(err)
	}
	if s := a.Stats(); s.Dials != 2 || s.Conns != 1 {
		t.Fatalf("stats %+v, want a second dial", s)
	}
}

// TestIdleEvictionSparesBusyConnection: a request outlasting the idle
// timeout keeps its connection.
func TestIdleEvictionSparesBusyConnection(t *testing.T) {
	a, _ := startNode(t, Config{IdleTimeout: 50 * time.Millisecond})
	release := make(chan struct{})
	b := newNode(t, Config{}, newIdentity(t), HandlerFunc(func(context.Context, *Message) (*Response, error) {
		<-release
		return &Response{Payload: []byte("done")}, nil
	}))
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	errc := make(chan error, 1)
	go func() {
		_, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "slow"})
		errc <- err
	}()
	// Wait for the request to be in flight, then for several janitor rounds.
	waitFor(t, "the request to arrive", func() bool { return b.Stats().MessagesIn >= 1 })
	deadline := time.Now().Add(300 * time.Millisecond)
	waitFor(t, "several idle timeouts to pass", func() bool { return time.Now().After(deadline) })
	close(release)
	if err := <-errc; err != nil {
		t.Fatalf("request outlasting the idle timeout: %v", err)
	}
	if s := a.Stats(); s.Evictions != 0 || s.Dials != 1 {
		t.Fatalf("stats %+v, want no eviction", s)
	}
}

// TestMaxConnsNeverEvicts: past Config.MaxConns new inbound connections
// are refused and counted; the connections already open stay, and this
// node's own dials are not limited.
func TestMaxConnsNeverEvicts(t *testing.T) {
	a, _ := startNode(t, Config{MaxConns: 2})
	ps := startNodes(t, 3, Config{})
	ctx := testCtx(t)
	for _, p := range ps[:2] {
		if err := p.Send(ctx, Outbound{Target: targetOf(a), Type: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	err := ps[2].Send(ctx, Outbound{Target: targetOf(a), Type: "x"})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("third inbound connection: %v, want ErrUnreachable", err)
	}
	if s := a.Stats(); s.Conns != 2 || s.RefusedConns == 0 || s.Evictions != 0 {
		t.Fatalf("stats %+v, want 2 connections, refusals counted, none evicted", s)
	}
	for _, p := range ps[:2] {
		if err := p.Send(ctx, Outbound{Target: targetOf(a), Type: "x"}); err != nil || p.Stats().Dials != 1 {
			t.Fatalf("a pooled peer after the refusal: %v, stats %+v", err, p.Stats())
		}
	}
	if err := a.Send(ctx, Outbound{Target: targetOf(ps[2]), Type: "x"}); err != nil {
		t.Fatalf("an outbound dial past MaxConns inbound: %v", err)
	}
}

// TestPeerRestart: a peer that restarts with the same identity on the same
// address is reached on the next send. With ReverifyAfter tiny, the dead
// pooled connection is found by the ping before the message is written.
func TestPeerRestart(t *testing.T) {
	tests := []struct {
		name string
		stop func(t *testing.T, b *Connector, udp *net.UDPConn)
	}{
		// The peer closes its connections: the sender hears of it at once.
		{"graceful", func(t *testing.T, b *Connector, _ *net.UDPConn) { b.Close() }},
		// The socket goes first, so nothing reaches the sender: only the
		// restarted node's stateless reset tells it the connection is gone.
		{"crash", func(t *testing.T, b *Connector, udp *net.UDPConn) {
			udp.Close()
			waitFor(t, "the crashed node to drop its connections", func() bool { return b.Stats().Conns == 0 })
			b.Close()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A long DialTimeout: a ping to the dead connection that is not
			// reset would time out only after the send's own deadline.
			a, _ := startNode(t, Config{ReverifyAfter: time.Nanosecond, DialTimeout: time.Minute})
			id := newIdentity(t)
			udp := listenUDP(t, "127.0.0.1:0")
			b := newNode(t, Config{}, id, echoHandler(nil))
			if err := b.StartOn(udp); err != nil {
				t.Fatal(err)
			}
			ctx := testCtx(t)
			if _, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "x"}); err != nil {
				t.Fatal(err)
			}
			tt.stop(t, b, udp)
			b2, got := restartNode(t, id, b.Addr().String())
			if err := a.Send(ctx, Outbound{Target: Target{NodeID: id.NodeID()}, Type: "after restart"}); err != nil {
				t.Fatalf("send after restart: %v", err)
			}
			if m := recv(t, got); m.Type != "after restart" {
				t.Fatalf("got %+v", m)
			}
			if s := a.Stats(); s.Dials != 2 || b2.Stats().Conns != 1 {
				t.Fatalf("stats %+v, want a second dial", s)
			}
		})
	}
}

func listenUDP(t testing.TB, addr string) *net.UDPConn {
	t.Helper()
	laddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	udp, err := net.ListenUDP("udp", laddr)
	if err != nil {
		t.Fatal(err)
	}
	return udp
}

// restartNode starts a node with identity id on addr, retrying while the
// port is still being released.
func restartNode(t testing.TB, id *identity.Identity, addr string) (*Connector, chan *Message) {
	t.Helper()
	got := make(chan *Message, 16)
	c := newNode(t, Config{ListenAddr: addr}, id, echoHandler(got))
	var err error
	waitFor(t, "the port to be free again", func() bool {
		err = c.Start(t.Context())
		return err == nil
	})
	return c, got
}

// TestSendRetriesOnDeadPooledConnection: a pooled connection that died
// before the send is not written to; the send goes out on a fresh dial
// without reverification.
func TestSendRetriesOnDeadPooledConnection(t *testing.T) {
	a, _ := startNode(t, Config{ReverifyAfter: -1})
	b, got := startNode(t, Config{})
	ctx := testCtx(t)
	if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "first"}); err != nil {
		t.Fatal(err)
	}
	recv(t, got)
	pc, _ := a.pool.lookup(Target{NodeID: b.NodeID()})
	pc.close(codeDead, "test")
	if err := a.Send(ctx, Outbound{Target: Target{NodeID: b.NodeID()}, Type: "second"}); err != nil {
		t.Fatalf("send after the pooled connection died: %v", err)
	}
	if m := recv(t, got); m.Type != "second" {
		t.Fatalf("got %+v", m)
	}
	if s := a.Stats(); s.Dials != 2 {
		t.Fatalf("stats %+v, want a second dial", s)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("test deadline passed")
	}
}

// TestShortDeadlineDoesNotCancelSharedDial: the first caller gives up before
// the handshake is done; the dial it started still completes, is pooled, and
// the next caller uses it instead of dialling again.
func TestShortDeadlineDoesNotCancelSharedDial(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, _ := startNode(t, Config{})
	short, cancel := context.WithTimeout(testCtx(t), time.Microsecond)
	defer cancel()
	if _, err := a.Request(short, Outbound{Target: targetOf(b), Type: "x"}); err != nil && !errors.Is(err, ErrTimeout) {
		t.Fatalf("request with a short deadline: %v, want success or ErrTimeout", err)
	}
	if _, err := a.Request(testCtx(t), Outbound{Target: targetOf(b), Type: "x"}); err != nil {
		t.Fatalf("request after: %v", err)
	}
	if s := a.Stats(); s.Dials != 1 {
		t.Errorf("%d dials, want 1: the first caller's deadline cancelled the shared dial", s.Dials)
	}
}

// pooledKey identifies the connection a pools for b: the TLS exporter gives
// the same bytes at both ends of one connection and different bytes on
// different connections.
func pooledKey(t testing.TB, a, b *Connector) string {
	pc, _ := a.pool.lookup(Target{NodeID: b.NodeID()})
	if pc == nil {
		return ""
	}
	cs := pc.qc.ConnectionState().TLS
	key, err := cs.ExportKeyingMaterial("peerbridge test", nil, 16)
	if err != nil {
		t.Fatal(err)
	}
	return string(key)
}

// TestSimultaneousDialsSettleOnOneConnection: two peers that dial each other
// at once end up pooling the same connection (the one the lower node ID
// dialled), not one each.
func TestSimultaneousDialsSettleOnOneConnection(t *testing.T) {
	for i := range 5 {
		a, _ := startNode(t, Config{})
		b, _ := startNode(t, Config{})
		ctx := testCtx(t)
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for _, pair := range [][2]*Connector{{a, b}, {b, a}} {
			wg.Go(func() { errs <- pair[0].Send(ctx, Outbound{Target: targetOf(pair[1]), Type: "x"}) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: send: %v", i, err)
			}
		}
		waitFor(t, "both peers to pool the same connection", func() bool {
			ka, kb := pooledKey(t, a, b), pooledKey(t, b, a)
			return ka != "" && ka == kb
		})
	}
}

// TestPooledConnEndsAnotherTakesOver: when a peer's pooled connection ends
// while the peer has another live one (it reconnected before the old one
// was noticed dead), the live one is pooled at once: the next request
// needs no dial.
func TestPooledConnEndsAnotherTakesOver(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, _ := startNode(t, Config{})
	ctx := testCtx(t)
	if _, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "echo"}); err != nil {
		t.Fatal(err)
	}
	addr := net.UDPAddrFromAddrPort(b.Addr())
	if _, err := a.DialPath(ctx, nil, addr, b.NodeID(), PathDirect); err != nil {
		t.Fatal(err)
	}
	a.pool.mu.Lock()
	n := len(a.pool.all)
	a.pool.mu.Unlock()
	if n != 2 {
		t.Fatalf("%d live connections, want 2", n)
	}
	pooled := a.pool.lookupConn(b.NodeID())
	pooled.close(codeDead, "test")
	waitFor(t, "the other connection to be pooled", func() bool {
		pc := a.pool.lookupConn(b.NodeID())
		return pc != nil && pc != pooled && pc.alive()
	})
	dials := a.Stats().Dials
	if _, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "echo"}); err != nil {
		t.Fatal(err)
	}
	if got := a.Stats().Dials; got != dials {
		t.Errorf("the request after the pooled connection ended dialled (%d dials, had %d)", got, dials)
	}
}
