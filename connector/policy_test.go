package connector

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// startWithPolicy starts a connector whose identity accepts only the peers
// policy p accepts (nil: every peer).
func startWithPolicy(t *testing.T, p identity.Policy) *Connector {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{}, id.WithPolicy(p), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetHandler(HandlerFunc(func(context.Context, *Message) (*Response, error) { return &Response{}, nil }))
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func refuseAll(peer identity.NodeID, _ []byte) error {
	return &identity.NotAllowedError{Node: peer, Reason: "not on the list"}
}

// TestPolicyRefusals: a node that refuses a peer neither accepts its
// connection nor dials it, and each side learns which refusal it was.
func TestPolicyRefusals(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	closed, open := startWithPolicy(t, refuseAll), startWithPolicy(t, nil)

	_, err := open.Request(ctx, Outbound{Target: Target{NodeID: closed.NodeID(), Endpoint: closed.Addr().String()}, Type: "t"})
	if !errors.Is(err, ErrRefusedByPeer) {
		t.Errorf("a stranger's request to a closed node: %v, want ErrRefusedByPeer", err)
	}
	err = open.Send(ctx, Outbound{Target: Target{NodeID: closed.NodeID(), Endpoint: closed.Addr().String()}, Type: "t"})
	if !errors.Is(err, ErrRefusedByPeer) {
		t.Errorf("a stranger's send to a closed node: %v, want ErrRefusedByPeer", err)
	}
	_, err = closed.Request(ctx, Outbound{Target: Target{NodeID: open.NodeID(), Endpoint: open.Addr().String()}, Type: "t"})
	if !errors.Is(err, ErrNotAllowed) {
		t.Errorf("a closed node's request to a node it does not accept: %v, want ErrNotAllowed", err)
	}
	if n := len(closed.Peers()); n != 0 {
		t.Errorf("the closed node holds %d peers", n)
	}
}

// TestTimeoutTextNamesThePeer: a request whose deadline passes fails with
// ErrTimeout in words: the peer and what happened, not QUIC's stream
// numbers.
func TestTimeoutTextNamesThePeer(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	slow := startWithPolicy(t, nil)
	slow.SetHandler(HandlerFunc(func(ctx context.Context, _ *Message) (*Response, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return &Response{}, nil
	}))
	asker := startWithPolicy(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := asker.Request(ctx, Outbound{Target: Target{NodeID: slow.NodeID(), Endpoint: slow.Addr().String()}, Type: "t"})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("request past its deadline: %v, want ErrTimeout", err)
	}
	if msg := err.Error(); strings.Contains(msg, "stream") || !strings.Contains(msg, slow.NodeID().Short()) {
		t.Errorf("timeout text %q: want the peer named and no stream numbers", msg)
	}
}
