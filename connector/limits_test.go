package connector

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/codec"
)

// blockingNode starts a node whose handler holds every request until
// release is closed or the request's context ends, and reports each
// request's deadline on deadlines.
func blockingNode(t *testing.T, cfg Config) (c *Connector, release chan struct{}, deadlines chan time.Duration) {
	t.Helper()
	release, deadlines = make(chan struct{}), make(chan time.Duration, 64)
	c = newNode(t, cfg, newIdentity(t), HandlerFunc(func(ctx context.Context, m *Message) (*Response, error) {
		d, _ := ctx.Deadline()
		deadlines <- time.Until(d)
		select {
		case <-release:
			return &Response{}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}))
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return c, release, deadlines
}

// TestInboundRequestLimit: past MaxInboundRequests, from any mix of peers,
// a request is answered 503 at once; the admitted ones are served.
func TestInboundRequestLimit(t *testing.T) {
	b, release, _ := blockingNode(t, Config{MaxInboundRequests: 2, MaxInboundRequestsPerPeer: 2})
	peers := startNodes(t, 2, Config{})
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, p := range peers {
		wg.Go(func() {
			_, err := p.Request(ctx, Outbound{Target: targetOf(b), Type: "x"})
			errs <- err
		})
	}
	waitFor(t, "two requests in flight", func() bool { return b.Stats().InboundRequests == 2 })
	_, err := peers[0].Request(ctx, Outbound{Target: targetOf(b), Type: "x"})
	if code, _ := remoteCode(err); code != CodeUnavailable {
		t.Fatalf("a third request: %v, want a 503", err)
	}
	close(release)
	wg.Wait()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("an admitted request: %v", err)
		}
	}
	if s := b.Stats(); s.RefusedRequests != 1 || s.InboundRequests != 0 {
		t.Errorf("stats %+v, want 1 refused request and none in flight", s)
	}
}

// TestInboundRequestTimeoutCapped: the sender's timeout applies only where
// it is shorter than the receiver's DefaultTimeout.
func TestInboundRequestTimeoutCapped(t *testing.T) {
	b, _, deadlines := blockingNode(t, Config{DefaultTimeout: 300 * time.Millisecond})
	a, _ := startNode(t, Config{})
	tests := []struct {
		name string
		ask  time.Duration
		max  time.Duration
	}{
		{"longer than the receiver's", time.Hour, 300 * time.Millisecond},
		{"shorter than the receiver's", 100 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), tt.ask)
			defer cancel()
			a.Request(ctx, Outbound{Target: targetOf(b), Type: "x"})
			if got := <-deadlines; got > tt.max {
				t.Errorf("asking for %v, the handler got %v, want at most %v", tt.ask, got, tt.max)
			}
		})
	}
}

// TestInboundStreamLimit: past MaxInboundStreams a new stream is reset and
// counted; the connection and the streams already open go on.
func TestInboundStreamLimit(t *testing.T) {
	b, release, _ := blockingNode(t, Config{MaxInboundStreams: 2})
	a, _ := startNode(t, Config{})
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { a.Request(ctx, Outbound{Target: targetOf(b), Type: "x"}) })
	}
	waitFor(t, "two requests in flight", func() bool { return b.Stats().InboundRequests == 2 })
	_, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "x"})
	if err == nil || b.Stats().RefusedStreams != 1 {
		t.Fatalf("a third stream: %v, stats %+v; want an error and 1 refused stream", err, b.Stats())
	}
	close(release)
	wg.Wait()
	if _, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "x"}); err != nil {
		t.Fatalf("a request once streams are free: %v", err)
	}
}

func TestConfigFrameBudgets(t *testing.T) {
	frame := codec.MaxFrameSize(codec.DefaultMaxPayload)
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{}, true},
		{"large payload raises the default budgets", Config{MaxPayload: 16 << 20}, true},
		{"connection budget under one frame", Config{ConnFrameBudget: frame - 1}, false},
		{"total budget under the connection's", Config{ConnFrameBudget: 8 << 20, FrameBudget: 4 << 20}, false},
		{"negative limit", Config{MaxConnsPerIP: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, newIdentity(t), nil)
			if (err == nil) != tt.ok {
				t.Fatalf("New = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestIPKeyGroupsIPv6By64(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"127.0.0.1:1", "127.0.0.1:2", true},
		{"127.0.0.1:1", "127.0.0.2:1", false},
		{"[2001:db8:1:2::1]:1", "[2001:db8:1:2:ffff::9]:1", true},
		{"[2001:db8:1:2::1]:1", "[2001:db8:1:3::1]:1", false},
		{"[::ffff:10.0.0.1]:1", "10.0.0.1:1", true},
	}
	real := netip.MustParseAddr("198.18.0.9")
	c := &Connector{cfg: Config{SourceIP: func(ap netip.AddrPort) (netip.Addr, bool) {
		return real, ap.Addr() == netip.MustParseAddr("127.0.0.99")
	}}}
	tests = append(tests, struct {
		a, b string
		same bool
	}{"127.0.0.99:7", "198.18.0.9:1", true}) // a TCP relay client counts as its real IP
	for _, tt := range tests {
		a, b := net.UDPAddrFromAddrPort(netip.MustParseAddrPort(tt.a)), net.UDPAddrFromAddrPort(netip.MustParseAddrPort(tt.b))
		if same := c.ipKey(a) == c.ipKey(b); same != tt.same {
			t.Errorf("ipKey(%s) == ipKey(%s) is %v, want %v", tt.a, tt.b, same, tt.same)
		}
	}
}

// TestInboundRequestBytesLimit: past MaxInboundRequestBytes a large request
// is answered 503 at once, while small ones are still served.
func TestInboundRequestBytesLimit(t *testing.T) {
	const payload = 512 << 10
	b, release, _ := blockingNode(t, Config{MaxPayload: payload, MaxInboundRequestBytes: 2 * payload})
	a, _ := startNode(t, Config{MaxPayload: payload})
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { a.Request(ctx, Outbound{Target: targetOf(b), Type: "x", Payload: make([]byte, payload)}) })
	}
	waitFor(t, "two large requests in flight", func() bool { return b.Stats().InboundRequestBytes == 2*payload })
	_, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "x", Payload: make([]byte, payload)})
	if code, _ := remoteCode(err); code != CodeUnavailable {
		t.Fatalf("a third large request: %v, want a 503", err)
	}
	small := make(chan error, 1)
	go func() {
		_, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "x", Payload: make([]byte, smallPayload)})
		small <- err
	}()
	waitFor(t, "the small request to be served", func() bool { return b.Stats().InboundRequests == 3 })
	close(release)
	wg.Wait()
	if err := <-small; err != nil {
		t.Fatalf("a small request beside the large ones: %v", err)
	}
	if s := b.Stats(); s.InboundRequestBytesPeak != 2*payload || s.InboundRequestBytes != 0 || s.RefusedRequests != 1 {
		t.Errorf("stats %+v, want a peak of %d bytes, none left, 1 refusal", s, 2*payload)
	}
}
