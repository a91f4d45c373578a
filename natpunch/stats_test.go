package natpunch

import (
	"context"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
)

// TestGatewayStats: two registered bridges and one relayed request show in
// the gateway's snapshot.
func TestGatewayStats(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{})
	a, cla := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g)}, Trace: nil}, natpunchtest.Echo())
	b, _ := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g)}, Trace: nil}, natpunchtest.Echo())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cla.relayTo(ctx, cla.gateways[0], b.NodeID()); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 1000)
	if _, err := a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: b.NodeID()}, Type: "echo", Payload: payload}); err != nil {
		t.Fatal(err)
	}
	s := g.Stats()
	if s.Registrations != 2 || s.RelaySessions != 1 || s.RelayForwarded == 0 || s.RelayBytes < 2*uint64(len(payload)) {
		t.Errorf("stats %+v", s)
	}
}
