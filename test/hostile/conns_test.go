package hostile

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/connector"
)

// TestAttackConnectionFlood is issue 9 point 2: a flood of connections from
// throwaway keys, many from one key, while a legitimate peer has a request
// in flight. New connections past the limits are refused and counted, no
// connection is evicted, the request in flight gets its reply, and the
// victim's goroutines come back once the attackers leave.
func TestAttackConnectionFlood(t *testing.T) {
	const (
		maxConns, perIP, perPeer = 60, 20, 2
		ips, dialsPerIP          = 10, 25
		sameKeyDials             = 5
	)
	release := make(chan struct{})
	cfg := connector.Config{MaxConns: maxConns, MaxConnsPerIP: perIP, MaxConnsPerPeer: perPeer, DefaultTimeout: time.Minute}
	victim := startConnector(t, "127.0.0.1", cfg, connector.HandlerFunc(
		func(ctx context.Context, m *connector.Message) (*connector.Response, error) {
			select {
			case <-release:
				return &connector.Response{Payload: []byte("done")}, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}))
	legit := startConnector(t, "127.0.0.1", connector.Config{}, nil)
	ctx := testCtx(t)
	replied := make(chan error, 1)
	go func() {
		r, err := legit.Request(ctx, connector.Outbound{Target: targetOf(victim), Type: "slow"})
		if err == nil && string(r.Payload) != "done" {
			err = fmt.Errorf("reply %q", r.Payload)
		}
		replied <- err
	}()
	waitFor(t, "the legitimate request to be in flight", func() bool { return victim.Stats().InboundRequests == 1 })

	var as []*attacker
	for i := range ips + 1 {
		as = append(as, newAttacker(t, fmt.Sprintf("127.0.0.%d", 2+i)))
	}
	g0 := runtime.NumGoroutine()
	// One key, many connections: past perPeer they are closed once the key
	// is known.
	key := newIdentity(t)
	var open []*quic.Conn
	for range sameKeyDials {
		if qc, err := as[ips].dialAs(ctx, key, victim); err == nil {
			open = append(open, qc)
		}
	}
	// Throwaway keys from ten addresses, one after another: the first fill
	// their per-address share, the later ones find the victim full.
	for i := range ips * dialsPerIP {
		if qc, err := as[i/dialsPerIP].dial(ctx, t, victim); err == nil {
			open = append(open, qc)
		}
	}
	alive := 0
	for _, qc := range open {
		if qc.Context().Err() == nil {
			alive++
		}
	}
	s := victim.Stats()
	t.Logf("%d dials: %d handshakes completed, %d still open, stats %+v", sameKeyDials+ips*dialsPerIP, len(open), alive, s)
	if s.InboundConns > maxConns || s.RefusedConns == 0 || s.RefusedConnsPerIP == 0 || s.RefusedConnsPerPeer < sameKeyDials-perPeer {
		t.Errorf("stats %+v: want at most %d inbound connections, and refusals counted for the total, per IP and per key (at least %d)",
			s, maxConns, sameKeyDials-perPeer)
	}
	if s.Evictions != 0 {
		t.Errorf("%d connections evicted", s.Evictions)
	}
	close(release)
	if err := <-replied; err != nil {
		t.Fatalf("the legitimate request in flight during the flood: %v", err)
	}
	for _, a := range as {
		a.close()
	}
	waitFor(t, "the attackers' connections to be gone", func() bool { return victim.Stats().InboundConns == 1 })
	waitGoroutines(t, g0)
}
