package connector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestSendAndRequest(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, got := startNode(t, Config{})
	ctx := testCtx(t)
	hdr := map[string][]string{"X-Trace": {"1", "2"}}
	if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "dht_store", Payload: []byte("hello"), Headers: hdr}); err != nil {
		t.Fatalf("send: %v", err)
	}
	m := recv(t, got)
	if m.From != a.NodeID() || m.Type != "dht_store" || string(m.Payload) != "hello" || len(m.Headers["X-Trace"]) != 2 {
		t.Fatalf("got %+v", m)
	}
	r, err := a.Request(ctx, Outbound{Target: Target{NodeID: b.NodeID()}, Type: "echo", Payload: []byte("ping"), Headers: hdr})
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if !bytes.Equal(r.Payload, []byte("ping")) || r.From != b.NodeID() || !r.Reused || r.Path != PathDirect {
		t.Fatalf("reply %+v", r)
	}
	if s := a.Stats(); s.Dials != 1 || s.PoolHits != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSend(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		headers map[string][]string
	}{
		{"plain", []byte("hello"), nil},
		{"empty payload", nil, nil},
		{"headers", []byte("x"), map[string][]string{"A": {"1", "2"}, "B": {""}}},
		{"binary", []byte{0, 1, 2, 255, 0}, map[string][]string{"Content-Type": {"application/octet-stream"}}},
	}
	a, _ := startNode(t, Config{})
	b, got := startNode(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := a.Send(testCtx(t), Outbound{Target: targetOf(b), Type: "t." + tt.name, Payload: tt.payload, Headers: tt.headers}); err != nil {
				t.Fatalf("send: %v", err)
			}
			m := recv(t, got)
			if m.From != a.NodeID() || m.Type != "t."+tt.name || !bytes.Equal(m.Payload, tt.payload) ||
				!maps.EqualFunc(m.Headers, tt.headers, slices.Equal) || m.Path != PathDirect || m.Remote != a.Addr() {
				t.Fatalf("got %+v", m)
			}
		})
	}
}

// TestSendHandlerError: an error from the receiving handler comes back to
// the sender instead of the acknowledgement.
func TestSendHandlerError(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantCode int
		wantText string
	}{
		{"remote error", &RemoteError{Code: CodeNotFound, Text: "no such key"}, CodeNotFound, "no such key"},
		{"plain error", errors.New("boom"), CodeInternal, "boom"},
		{"success", nil, 0, ""},
	}
	a, _ := startNode(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newNode(t, Config{}, newIdentity(t), HandlerFunc(func(context.Context, *Message) (*Response, error) {
				return nil, tt.err
			}))
			if err := b.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			err := a.Send(testCtx(t), Outbound{Target: targetOf(b), Type: "x", Payload: []byte("x")})
			if code, text := remoteCode(err); code != tt.wantCode || text != tt.wantText || (err == nil) != (tt.err == nil) {
				t.Fatalf("send: %v, want code %d %q", err, tt.wantCode, tt.wantText)
			}
		})
	}
}

func TestRequest(t *testing.T) {
	failWith := func(err error) Handler {
		return HandlerFunc(func(context.Context, *Message) (*Response, error) { return nil, err })
	}
	fixed := HandlerFunc(func(context.Context, *Message) (*Response, error) {
		return &Response{Headers: map[string][]string{"Status": {"ok"}}, Payload: []byte("fixed")}, nil
	})
	tests := []struct {
		name        string
		handler     Handler // nil: none set
		payload     []byte
		headers     map[string][]string
		wantPayload []byte
		wantHeaders map[string][]string
		wantCode    int // 0: success
		wantText    string
	}{
		{name: "echo", handler: echoHandler(nil), payload: []byte("ping"), wantPayload: []byte("ping")},
		{
			name: "headers round trip", handler: echoHandler(nil), payload: []byte("p"),
			headers:     map[string][]string{"X-Trace": {"1", "2"}, "Empty": {""}, "Nats-Msg-Id": {"abc"}},
			wantPayload: []byte("p"), wantHeaders: map[string][]string{"X-Trace": {"1", "2"}, "Empty": {""}, "Nats-Msg-Id": {"abc"}},
		},
		{name: "empty payload", handler: echoHandler(nil), payload: nil, wantPayload: nil},
		{name: "reply headers", handler: fixed, payload: []byte("x"), wantPayload: []byte("fixed"), wantHeaders: map[string][]string{"Status": {"ok"}}},
		{name: "nil response", handler: failWith(nil), payload: []byte("x")},
		{name: "remote error", handler: failWith(&RemoteError{Code: CodeNotFound, Text: "no such key"}), wantCode: CodeNotFound, wantText: "no such key"},
		{name: "wrapped remote error", handler: failWith(fmt.Errorf("lookup: %w", &RemoteError{Code: CodeBadRequest, Text: "bad key"})), wantCode: CodeBadRequest, wantText: "bad key"},
		{name: "plain error", handler: failWith(errors.New("boom")), wantCode: CodeInternal, wantText: "boom"},
		{name: "no handler", handler: nil, wantCode: CodeUnavailable, wantText: "no handler"},
	}
	a, _ := startNode(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newNode(t, Config{}, newIdentity(t), tt.handler)
			if err := b.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			r, err := a.Request(testCtx(t), Outbound{Target: targetOf(b), Type: "svc.echo", Payload: tt.payload, Headers: tt.headers})
			code, text := remoteCode(err)
			if code != tt.wantCode || text != tt.wantText || (err == nil) != (tt.wantCode == 0) {
				t.Fatalf("request: %v, want code %d %q", err, tt.wantCode, tt.wantText)
			}
			if r != nil && (!bytes.Equal(r.Payload, tt.wantPayload) || !maps.EqualFunc(r.Headers, tt.wantHeaders, slices.Equal) || r.From != b.NodeID()) {
				t.Fatalf("reply %+v, want payload %q headers %v", r, tt.wantPayload, tt.wantHeaders)
			}
		})
	}
}

// TestSendOrder: messages SendAsync-ed from one goroutine arrive in order
// and are each acknowledged.
func TestSendOrder(t *testing.T) {
	const n = 2000
	a, _ := startNode(t, Config{MaxQueue: n}) // all n may be queued behind the first dial
	b, got := startNode(t, Config{})
	ctx := testCtx(t)
	acks := make(chan error, n)
	for i := range n {
		a.SendAsync(ctx, Outbound{Target: targetOf(b), Type: "seq", Payload: fmt.Appendf(nil, "%d", i)}, func(r Result) { acks <- r.Err })
	}
	for i := range n {
		if m := recv(t, got); string(m.Payload) != fmt.Sprint(i) {
			t.Fatalf("message %d has payload %q", i, m.Payload)
		}
	}
	for range n {
		if err := <-acks; err != nil {
			t.Fatalf("ack: %v", err)
		}
	}
}

// TestLargePayload: a frame far larger than one QUIC packet or data event is
// reassembled, both ways.
func TestLargePayload(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, got := startNode(t, Config{})
	big := make([]byte, 512<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	ctx := testCtx(t)
	r, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "big", Payload: big})
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if !bytes.Equal(r.Payload, big) {
		t.Fatalf("sent %d bytes, reply has %d", len(big), len(r.Payload))
	}
	if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "big", Payload: big}); err != nil {
		t.Fatalf("send: %v", err)
	}
	if m := recv(t, got); !bytes.Equal(m.Payload, big) {
		t.Fatalf("sent %d bytes, received %d", len(big), len(m.Payload))
	}
}

// TestRequestHandlerTimeout: a handler still busy at the requester's
// deadline gives the requester ErrTimeout.
func TestRequestHandlerTimeout(t *testing.T) {
	tests := []struct {
		name    string
		handler func(release <-chan struct{}) Handler
	}{
		{"handler honours ctx", func(<-chan struct{}) Handler {
			return HandlerFunc(func(ctx context.Context, _ *Message) (*Response, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			})
		}},
		{"handler ignores ctx", func(release <-chan struct{}) Handler {
			return HandlerFunc(func(context.Context, *Message) (*Response, error) {
				<-release
				return &Response{Payload: []byte("late")}, nil
			})
		}},
	}
	a, _ := startNode(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			b := newNode(t, Config{}, newIdentity(t), tt.handler(release))
			if err := b.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			r, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "slow"})
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("request: %+v, %v; want ErrTimeout", r, err)
			}
		})
	}
}

func TestClosed(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, _ := startNode(t, Config{})
	ctx := testCtx(t)
	if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
	if _, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("request after close: %v", err)
	}
	for _, r := range a.SendMany(ctx, []Target{targetOf(b)}, Outbound{Type: "x"}) {
		if !errors.Is(r.Err, ErrClosed) {
			t.Fatalf("send many after close: %v", r.Err)
		}
	}
	if s := a.Stats(); s.Conns != 0 {
		t.Fatalf("closed connector still has %d connections", s.Conns)
	}
	waitFor(t, "the peer to see the connection close", func() bool { return b.Stats().Conns == 0 })
}

func TestNotStarted(t *testing.T) {
	a := newNode(t, Config{}, newIdentity(t), nil)
	if err := a.Send(testCtx(t), Outbound{Target: Target{Endpoint: "127.0.0.1:1"}, Type: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("send before start: %v", err)
	}
}

// TestCloseLeaksNoGoroutines: after traffic both ways, closing both
// connectors ends every goroutine they and quic-go started.
func TestCloseLeaksNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	a, _ := startNode(t, Config{})
	b, _ := startNode(t, Config{})
	ctx := testCtx(t)
	if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Request(ctx, Outbound{Target: Target{NodeID: a.NodeID()}, Type: "x"}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b.Close()
}
