package metrics

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/connector/membership"
)

// TestRefusalsAreExported: a request refused by the receiver's in-flight
// limit shows in the receiver's peerbridge_refused_total{limit="requests"},
// and a node its membership policy refused in {limit="not_allowed"}.
func TestRefusalsAreExported(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	b := connectortest.Start(t, connector.Config{MaxInboundRequests: 1}, connector.HandlerFunc(func(ctx context.Context, _ *connector.Message) (*connector.Response, error) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return &connector.Response{}, nil
	}))
	m := NewBridge(b)
	policy, err := membership.New(membership.Config{Allow: []membership.Allow{{Node: b.NodeID()}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	policy.Check("stranger", nil) // one node refused in its handshake
	m.WatchMembership(policy)
	reg := NewRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	a := startConnector(t)
	to := connector.Target{NodeID: b.NodeID(), Endpoint: b.Addr().String()}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := a.Request(ctx, connector.Outbound{Target: to, Type: "x"}); err != nil {
			t.Errorf("the admitted request: %v", err)
		}
	})
	select {
	case <-entered:
	case <-ctx.Done():
		t.Fatal("the first request never reached the handler")
	}
	_, err = a.Request(ctx, connector.Outbound{Target: to, Type: "x"})
	var re *connector.RemoteError
	if !errors.As(err, &re) || re.Code != connector.CodeUnavailable {
		t.Errorf("second request: %v, want 503 busy", err)
	}
	close(release)
	wg.Wait()
	want := `
# HELP peerbridge_refused_total What peers asked for and a limit refused: connections over --max-conns (conns), --max-conns-per-ip (conns_per_ip), --max-conns-per-peer (conns_per_peer); streams over the process's stream limit (streams); requests answered 503 busy (requests); frames that got no memory (frame_budget) or did not arrive within --frame-timeout (frame_timeout); peers cut off for leaving messages unacknowledged (ack_timeout); nodes refused in the handshake because they are not allowed (not_allowed).
# TYPE peerbridge_refused_total counter
peerbridge_refused_total{limit="ack_timeout"} 0
peerbridge_refused_total{limit="conns"} 0
peerbridge_refused_total{limit="conns_per_ip"} 0
peerbridge_refused_total{limit="conns_per_peer"} 0
peerbridge_refused_total{limit="frame_budget"} 0
peerbridge_refused_total{limit="frame_timeout"} 0
peerbridge_refused_total{limit="not_allowed"} 1
peerbridge_refused_total{limit="requests"} 1
peerbridge_refused_total{limit="streams"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "peerbridge_refused_total"); err != nil {
		t.Error(err)
	}
}
