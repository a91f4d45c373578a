package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/connector"
)

// failingPeers fail every message at once with err, and announce on
// failed that they have.
type failingPeers struct {
	err    error
	failed chan struct{}
}

func (p failingPeers) SendAsync(_ context.Context, o connector.Outbound, done func(connector.Result)) {
	done(connector.Result{Target: o.Target, Err: p.err})
	p.failed <- struct{}{}
}

func (p failingPeers) Request(context.Context, connector.Outbound) (*connector.Reply, error) {
	return nil, p.err
}

// warnings counts the warnings logged, and announces each on logged if
// it has room.
type warnings struct {
	n      atomic.Int64
	logged chan struct{}
}

func (w *warnings) Enabled(context.Context, slog.Level) bool { return true }
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w *warnings) WithGroup(string) slog.Handler            { return w }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn {
		w.n.Add(1)
		select {
		case w.logged <- struct{}{}:
		default:
		}
	}
	return nil
}

// TestDroppedMessagesAreCountedByReason: a message without a reply subject
// that fails is counted under its reason, and a run of them costs one
// warning.
func TestDroppedMessagesAreCountedByReason(t *testing.T) {
	const n = 5
	for _, tc := range []struct {
		err  error
		want func(Dropped) uint64
	}{
		{fmt.Errorf("%w: queue full", connector.ErrBusy), func(d Dropped) uint64 { return d.QueueFull }},
		{connector.ErrUnreachable, func(d Dropped) uint64 { return d.PeerUnreachable }},
		{connector.ErrUnknownPeer, func(d Dropped) uint64 { return d.PeerUnreachable }},
		{fmt.Errorf("%w: waiting for acknowledgement", connector.ErrTimeout), func(d Dropped) uint64 { return d.Timeout }},
		{fmt.Errorf("%w: %w", connector.ErrDeliveryUnknown, connector.ErrSlowPeer), func(d Dropped) uint64 { return d.DeliveryUnknown }},
		{&connector.RemoteError{Code: 403, Text: "no"}, func(d Dropped) uint64 { return d.Refused }},
	} {
		s := startNATS(t)
		var w warnings
		peers := failingPeers{tc.err, make(chan struct{}, n)}
		b, err := New(Config{}, dialNATS(t, s), peers, slog.New(&w))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		nc := dialNATS(t, s)
		h := nats.Header{HeaderNode: {newID(t).NodeID().String()}}
		for range n {
			if err := nc.PublishMsg(&nats.Msg{Subject: "peer.send.x", Header: h}); err != nil {
				t.Fatal(err)
			}
		}
		flush(t, nc)
		for range n {
			select {
			case <-peers.failed: // the outcome is counted before SendAsync returns
			case <-time.After(wait):
				t.Fatalf("%v: the bridge did not send %d messages", tc.err, n)
			}
		}
		if got := tc.want(b.Stats().Dropped); got != n || b.Stats().Failed != n {
			t.Errorf("%v: dropped %d, failed %d, want %d (%+v)", tc.err, got, b.Stats().Failed, n, b.Stats().Dropped)
		}
		if w.n.Load() != 1 {
			t.Errorf("%v: %d warnings for %d drops, want 1", tc.err, w.n.Load(), n)
		}
		if err := b.Stop(t.Context()); err != nil {
			t.Error(err)
		}
	}
}

// TestMalformedDropIsRefused: a message the bridge cannot read is
// dropped as refused.
func TestMalformedDropIsRefused(t *testing.T) {
	s := startNATS(t)
	w := warnings{logged: make(chan struct{}, 1)}
	b, err := New(Config{}, dialNATS(t, s), silentPeers{}, slog.New(&w))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Stop(context.Background()) })
	nc := dialNATS(t, s)
	if err := nc.PublishMsg(&nats.Msg{Subject: "peer.send.x", Header: nats.Header{HeaderNode: {"not a node"}}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.logged: // warned after counting
	case <-time.After(wait):
		t.Fatal("no warning for a malformed message")
	}
	if d := b.Stats().Dropped; d != (Dropped{Refused: 1}) {
		t.Errorf("dropped %+v, want one refused", d)
	}
}
