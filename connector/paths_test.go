package connector

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// routerFunc adapts a function to Router.
type routerFunc func(ctx context.Context, id identity.NodeID, opts NATOptions) (Conn, error)

func (f routerFunc) Route(ctx context.Context, id identity.NodeID, opts NATOptions) (Conn, error) {
	return f(ctx, id, opts)
}

func notRelayed(p Path) bool { return p != PathRelayed }

// TestDialPathReturnsPooled: DialPath returns the connection the pool
// holds afterwards: a better path replaces a relayed one, a relayed one
// does not replace a better one.
func TestDialPathReturnsPooled(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, _ := startNode(t, Config{})
	addr := net.UDPAddrFromAddrPort(b.Addr())
	for i, step := range []struct{ dial, want Path }{
		{PathRelayed, PathRelayed},
		{PathPunched, PathPunched},
		{PathRelayed, PathPunched},
	} {
		cn, err := a.DialPath(testCtx(t), nil, addr, b.NodeID(), step.dial)
		if err != nil {
			t.Fatal(err)
		}
		if cn.Path() != step.want || cn.Node() != b.NodeID() {
			t.Errorf("dial %d on %s returned %s to %s, want %s to %s", i, step.dial, cn.Path(), cn.Node().Short(), step.want, b.NodeID().Short())
		}
	}
}

// TestWaitPathWakesWhenPooled: a WaitPath for a better path returns the
// connection as soon as it is pooled, not before.
func TestWaitPathWakesWhenPooled(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, _ := startNode(t, Config{})
	addr := net.UDPAddrFromAddrPort(b.Addr())
	if _, err := a.DialPath(testCtx(t), nil, addr, b.NodeID(), PathRelayed); err != nil {
		t.Fatal(err)
	}
	type result struct {
		cn  Conn
		err error
	}
	got := make(chan result, 1)
	go func() {
		cn, err := a.WaitPath(testCtx(t), b.NodeID(), notRelayed)
		got <- result{cn, err}
	}()
	waitFor(t, "the waiter to watch", func() bool { return a.pool.watchers(b.NodeID()) == 1 })
	select {
	case r := <-got:
		t.Fatalf("WaitPath returned %v, %v with only a relayed connection pooled", r.cn.Path(), r.err)
	default:
	}
	if _, err := a.DialPath(testCtx(t), nil, addr, b.NodeID(), PathPunched); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r.err != nil || r.cn.Path() != PathPunched || r.cn.Node() != b.NodeID() {
			t.Errorf("WaitPath = %s to %s, %v; want punched to %s", r.cn.Path(), r.cn.Node().Short(), r.err, b.NodeID().Short())
		}
	case <-time.After(testTimeout):
		t.Fatal("WaitPath did not wake when the punched connection was pooled")
	}
	if n := a.pool.watchers(b.NodeID()); n != 0 {
		t.Errorf("%d watchers left after WaitPath returned", n)
	}
}

// TestWaitPathEnds: a WaitPath with nothing to find ends with its context,
// or with ErrClosed when the connector closes, and leaves no watcher.
func TestWaitPathEnds(t *testing.T) {
	a, _ := startNode(t, Config{})
	id := newIdentity(t).NodeID()
	ctx, cancel := context.WithTimeout(testCtx(t), 50*time.Millisecond)
	defer cancel()
	if _, err := a.WaitPath(ctx, id, notRelayed); !errors.Is(err, ErrTimeout) {
		t.Errorf("WaitPath past its deadline = %v, want ErrTimeout", err)
	}
	if n := a.pool.watchers(id); n != 0 {
		t.Errorf("%d watchers left after the deadline", n)
	}
	got := make(chan error, 1)
	go func() {
		_, err := a.WaitPath(testCtx(t), id, notRelayed)
		got <- err
	}()
	waitFor(t, "the waiter to watch", func() bool { return a.pool.watchers(id) == 1 })
	a.Close()
	select {
	case err := <-got:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("WaitPath when the connector closed = %v, want ErrClosed", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("WaitPath did not end when the connector closed")
	}
}

// TestRouteUsesRoutersConn: a request to a node known only by ID goes out
// on the connection the router returns; a router that returns none, or one
// to another node, fails the request with ErrUnreachable.
func TestRouteUsesRoutersConn(t *testing.T) {
	b, _ := startNode(t, Config{})
	other, _ := startNode(t, Config{})
	dialTo := func(n *Connector) func(a *Connector) Router {
		return func(a *Connector) Router {
			return routerFunc(func(ctx context.Context, _ identity.NodeID, _ NATOptions) (Conn, error) {
				return a.DialPath(ctx, nil, net.UDPAddrFromAddrPort(n.Addr()), n.NodeID(), PathPunched)
			})
		}
	}
	none := func(*Connector) Router {
		return routerFunc(func(context.Context, identity.NodeID, NATOptions) (Conn, error) { return Conn{}, nil })
	}
	for _, tc := range []struct {
		name     string
		router   func(a *Connector) Router
		wantErr  error
		wantPath Path
	}{
		{"its connection", dialTo(b), nil, PathPunched},
		{"no connection", none, ErrUnreachable, ""},
		{"another node's connection", dialTo(other), ErrUnreachable, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := startNode(t, Config{})
			a.SetRouter(tc.router(a))
			r, err := a.Request(testCtx(t), Outbound{Target: Target{NodeID: b.NodeID()}, Type: "t", Payload: []byte("x")})
			if !errors.Is(err, tc.wantErr) || (err == nil && r.Path != tc.wantPath) {
				t.Errorf("Request = %+v, %v; want path %q, error %v", r, err, tc.wantPath, tc.wantErr)
			}
		})
	}
}

// watchers returns how many WaitPath calls watch id.
func (p *pool) watchers(id identity.NodeID) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w := p.waits[id]; w != nil {
		return w.n
	}
	return 0
}
