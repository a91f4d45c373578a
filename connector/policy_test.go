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
	// The handler ignores its context: answering when the receiver's copy
	// of the deadline passes could beat the asker's own deadline.
	slow.SetHandler(HandlerFunc(func(context.Context, *Message) (*Response, error) {
		<-release
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

// TestMessageCountsMatchBothWays (issue 23): what one side counts out, the
// other counts in: messages, requests and answers with their payload bytes,
// not acknowledgements.
func TestMessageCountsMatchBothWays(t *testing.T) {
	a, b := startWithPolicy(t, nil), startWithPolicy(t, nil)
	b.SetHandler(HandlerFunc(func(_ context.Context, m *Message) (*Response, error) {
		return &Response{Payload: make([]byte, 20)}, nil
	}))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	to := Target{NodeID: b.NodeID(), Endpoint: b.Addr().String()}
	for range 3 {
		if err := a.Send(ctx, Outbound{Target: to, Type: "t", Payload: make([]byte, 100)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Request(ctx, Outbound{Target: to, Type: "t", Payload: make([]byte, 50)}); err != nil {
		t.Fatal(err)
	}
	// b counts its answer once written, a moment after a has it.
	var sa, sb Stats
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if sa, sb = a.Stats(), b.Stats(); sb.MessagesOut == 1 {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond): // polling b's counters, bounded by the deadline
		}
	}
	if sa.MessagesOut != 4 || sa.BytesOut != 350 || sb.MessagesIn != 4 || sb.BytesIn != 350 {
		t.Errorf("a → b: a counted %d messages, %d B out; b %d, %d B in; want 4 and 350 each", sa.MessagesOut, sa.BytesOut, sb.MessagesIn, sb.BytesIn)
	}
	if sa.MessagesIn != 1 || sa.BytesIn != 20 || sb.MessagesOut != 1 || sb.BytesOut != 20 {
		t.Errorf("b → a: b counted %d messages, %d B out; a %d, %d B in; want 1 and 20 each", sb.MessagesOut, sb.BytesOut, sa.MessagesIn, sa.BytesIn)
	}
}
