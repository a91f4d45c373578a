package bridge

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/connector"
)

// silentPeers take every message and never acknowledge one; each
// SendAsync is announced on sent.
type silentPeers struct{ sent chan struct{} }

func (p silentPeers) SendAsync(context.Context, connector.Outbound, func(connector.Result)) {
	p.sent <- struct{}{}
}

func (silentPeers) Request(context.Context, connector.Outbound) (*connector.Reply, error) {
	return nil, connector.ErrUnreachable
}

// startSilent starts a bridge with cfg in front of silentPeers and returns
// it, a NATS client of its server and the peers' announcements.
func startSilent(t *testing.T, cfg Config) (*Bridge, *nats.Conn, <-chan struct{}) {
	t.Helper()
	s := startNATS(t)
	peers := silentPeers{sent: make(chan struct{}, 16)}
	b, err := New(cfg, dialNATS(t, s), peers, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Stop(context.Background()) })
	return b, dialNATS(t, s), peers.sent
}

// sendAll publishes n messages to one peer, each asking for the bridge's
// answer, and returns the subscription the answers come on.
func sendAll(t *testing.T, nc *nats.Conn, n int) *nats.Subscription {
	t.Helper()
	inbox := nats.NewInbox()
	sub := subscribe(t, nc, inbox)
	h := nats.Header{HeaderNode: {newID(t).NodeID().String()}}
	for range n {
		if err := nc.PublishMsg(&nats.Msg{Subject: "peer.send.x", Reply: inbox, Header: h}); err != nil {
			t.Fatal(err)
		}
	}
	return sub
}

func TestUnacknowledgedSendsExpireInTurn(t *testing.T) {
	_, nc, _ := startSilent(t, Config{DefaultTimeout: 50 * time.Millisecond})
	sub := sendAll(t, nc, 3)
	for i := range 3 {
		if code := errCode(next(t, sub)); code != "504" {
			t.Errorf("answer %d: code %q, want 504", i, code)
		}
	}
}

func TestStopFailsSendsWaitingForAcknowledgement(t *testing.T) {
	b, nc, sent := startSilent(t, Config{DefaultTimeout: time.Hour})
	sub := sendAll(t, nc, 2)
	<-sent
	<-sent
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no grace period
	if err := b.Stop(ctx); err == nil {
		t.Error("Stop without grace reported no error with sends waiting")
	}
	for i := range 2 {
		if code := errCode(next(t, sub)); code != "503" {
			t.Errorf("answer %d: code %q, want 503", i, code)
		}
	}
}

// outcome returns target 0's outcome of s and whether it is known.
func outcome(s *sending) (error, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.res[0].Err, s.known[0]
}

func TestWaitListExpiresEachAtItsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &Bridge{log: slog.New(slog.DiscardHandler)}
		b.waiting.timeout = time.Second
		b.sends.start()
		var ss []*sending
		for range 3 { // deadlines 1.0s, 1.4s, 1.8s
			s := &sending{b: b, cancel: func() {}, left: 1}
			s.c.targets = []connector.Target{{Endpoint: "127.0.0.1:1"}}
			s.res, s.known = s.res1[:], s.known1[:]
			if err := b.sends.add(); err != nil || !b.waiting.add(s) {
				t.Fatal("not taken", err)
			}
			ss = append(ss, s)
			time.Sleep(400 * time.Millisecond)
		}
		synctest.Wait() // 1.2s
		wantKnown := func(when string, want ...bool) {
			t.Helper()
			for i, s := range ss {
				if _, known := outcome(s); known != want[i] {
					t.Errorf("%s: message %d known %v, want %v", when, i, known, want[i])
				}
			}
		}
		wantKnown("at 1.2s", true, false, false)
		time.Sleep(300 * time.Millisecond)
		synctest.Wait()
		wantKnown("at 1.5s", true, true, false)
		ss[2].finish(0, connector.Result{}) // acknowledged in time
		time.Sleep(time.Second)
		synctest.Wait()
		for i, want := range []error{connector.ErrTimeout, connector.ErrTimeout, nil} {
			if err, _ := outcome(ss[i]); !errors.Is(err, want) {
				t.Errorf("message %d: %v, want %v", i, err, want)
			}
		}
		b.waiting.close()
	})
}
