package connector

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// TestIdentityMismatch: the peer at an endpoint must prove the node ID the
// target names.
func TestIdentityMismatch(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, got := startNode(t, Config{})
	want := newIdentity(t).NodeID()
	err := a.Send(testCtx(t), Outbound{Target: Target{NodeID: want, Endpoint: b.Addr().String()}, Type: "x"})
	if !errors.Is(err, ErrIdentityMismatch) {
		t.Fatalf("send: %v, want ErrIdentityMismatch", err)
	}
	var m *identity.MismatchError
	if !errors.As(err, &m) || m.Want != want || m.Got != b.NodeID() {
		t.Fatalf("error %#v, want Want %s Got %s", m, want.Short(), b.NodeID().Short())
	}
	if s := a.Stats(); s.DialFailures != 1 || s.Conns != 0 {
		t.Fatalf("stats %+v", s)
	}
	if len(got) != 0 {
		t.Fatal("message delivered to the wrong node")
	}
}

// TestTargetErrors: sends and requests that cannot go anywhere fail with
// the matching sentinel, before anything is dialled.
func TestTargetErrors(t *testing.T) {
	tests := []struct {
		name   string
		target Target
		want   error
	}{
		{"empty target", Target{}, ErrBadTarget},
		{"endpoint without port", Target{Endpoint: "127.0.0.1"}, ErrBadTarget},
		{"bad port", Target{Endpoint: "127.0.0.1:notaport"}, ErrBadTarget},
		{"node ID without address", Target{NodeID: identity.NodeID("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")}, ErrUnknownPeer},
	}
	a, _ := startNode(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			if err := a.Send(ctx, Outbound{Target: tt.target, Type: "x"}); !errors.Is(err, tt.want) {
				t.Errorf("send: %v, want %v", err, tt.want)
			}
			if _, err := a.Request(ctx, Outbound{Target: tt.target, Type: "x"}); !errors.Is(err, tt.want) {
				t.Errorf("request: %v, want %v", err, tt.want)
			}
			if r := a.SendMany(ctx, []Target{tt.target}, Outbound{Type: "x"}); !errors.Is(r[0].Err, tt.want) {
				t.Errorf("send many: %v, want %v", r[0].Err, tt.want)
			}
		})
	}
	if s := a.Stats(); s.Conns != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestFrameTooLarge: a payload over the sender's Config.MaxPayload is
// refused locally; one over the receiver's is refused by the receiver.
func TestFrameTooLarge(t *testing.T) {
	tests := []struct {
		name                string
		sender, receiver    int // MaxPayload
		size                int
		wantSend, wantReply error
	}{
		{"under both limits", 1024, 1024, 1024, nil, nil},
		{"over the sender's limit", 1024, 4096, 1025, ErrFrameTooLarge, ErrFrameTooLarge},
		{"over the receiver's limit", 4096, 1024, 1025, ErrFrameTooLarge, ErrFrameTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := startNode(t, Config{MaxPayload: tt.sender})
			b, _ := startNode(t, Config{MaxPayload: tt.receiver})
			ctx := testCtx(t)
			payload := make([]byte, tt.size)
			if _, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "x", Payload: payload}); !errors.Is(err, tt.wantReply) || (err == nil) != (tt.wantReply == nil) {
				t.Errorf("request: %v, want %v", err, tt.wantReply)
			}
			if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "x", Payload: payload}); !errors.Is(err, tt.wantSend) || (err == nil) != (tt.wantSend == nil) {
				t.Errorf("send: %v, want %v", err, tt.wantSend)
			}
			// The connection is still good for a message that fits.
			if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "x", Payload: []byte("small")}); err != nil {
				t.Errorf("send after: %v", err)
			}
		})
	}
}

// TestUnreachable: nobody answers at the endpoint.
func TestUnreachable(t *testing.T) {
	a, _ := startNode(t, Config{DialTimeout: 300 * time.Millisecond})
	dead := Target{Endpoint: deadEndpoint(t)}
	ctx := testCtx(t)
	err := a.Send(ctx, Outbound{Target: dead, Type: "x"})
	if !errors.Is(err, ErrUnreachable) && !errors.Is(err, ErrTimeout) {
		t.Fatalf("send: %v, want ErrUnreachable or ErrTimeout", err)
	}
	if _, err := a.Request(ctx, Outbound{Target: dead, Type: "x"}); !errors.Is(err, ErrUnreachable) && !errors.Is(err, ErrTimeout) {
		t.Fatalf("request: %v, want ErrUnreachable or ErrTimeout", err)
	}
	if s := a.Stats(); s.Dials != 2 || s.DialFailures != 2 || s.Conns != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestRequestContextTimeout: with a short deadline of its own, a request
// waits for a dial to nowhere only its dial budget, and learns the peer is
// unreachable before its deadline.
func TestRequestContextTimeout(t *testing.T) {
	a, _ := startNode(t, Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := a.Request(ctx, Outbound{Target: Target{Endpoint: blackHole(t)}, Type: "x"}); !errors.Is(err, ErrUnreachable) || ctx.Err() != nil {
		t.Fatalf("request: %v (context: %v), want ErrUnreachable before the deadline", err, ctx.Err())
	}
}

// TestLongDeadline: a deadline further off than a frame can carry (a day)
// still works.
func TestLongDeadline(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, _ := startNode(t, Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 48*time.Hour)
	defer cancel()
	if _, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "x", Payload: []byte("x")}); err != nil {
		t.Fatalf("request: %v", err)
	}
	if err := a.Send(ctx, Outbound{Target: targetOf(b), Type: "x", Payload: []byte("x")}); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func TestRemoteErrorIs(t *testing.T) {
	tests := []struct {
		code            int
		timeout, tooBig bool
	}{
		{CodeTimeout, true, false},
		{CodeTooLarge, false, true},
		{CodeInternal, false, false},
		{CodeUnavailable, false, false},
	}
	for _, tt := range tests {
		err := error(&RemoteError{Code: tt.code, Text: "x"})
		if errors.Is(err, ErrTimeout) != tt.timeout || errors.Is(err, ErrFrameTooLarge) != tt.tooBig {
			t.Errorf("code %d: Is(ErrTimeout) = %v, Is(ErrFrameTooLarge) = %v", tt.code, errors.Is(err, ErrTimeout), errors.Is(err, ErrFrameTooLarge))
		}
	}
}
