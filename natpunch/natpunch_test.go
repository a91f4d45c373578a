package natpunch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

func TestRouteByNodeIDOnLoopbackIsDirect(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{})
	events := make(chan Event, 16)
	a, cla := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g)}, Trace: func(e Event) { events <- e }}, natpunchtest.Echo())
	b, _ := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g)}, Trace: nil}, natpunchtest.Echo())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: b.NodeID()}, Type: "echo", Payload: []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Payload) != "hi" || r.Path != connector.PathDirect || r.Reused {
		t.Fatalf("reply %+v", r)
	}
	if e := <-events; e.Step != "direct" || e.Err != nil || e.Peer != b.NodeID() {
		t.Fatalf("first event %+v", e)
	}
	rep := cla.Report()
	if rep == nil || rep.NATType != "none" || rep.Mapping != wire.MappingIndependent || rep.Filtering != wire.FilteringIndependent {
		t.Fatalf("loopback NAT report %+v", rep)
	}
}

func TestRelayCarriesEndToEndQUIC(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{})
	a, cla := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g)}, Trace: nil}, natpunchtest.Echo())
	b, _ := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g)}, Trace: nil}, natpunchtest.Echo())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := cla.relayTo(ctx, cla.gateways[0], b.NodeID())
	if err != nil {
		t.Fatal(err)
	}
	if conn.Path() != connector.PathRelayed || conn.Node() != b.NodeID() {
		t.Fatalf("relayTo returned a connection on %q to %s", conn.Path(), conn.Node().Short())
	}
	r, err := a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: b.NodeID()}, Type: "echo", Payload: []byte("through the relay")})
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Payload) != "through the relay" || r.Path != connector.PathRelayed || r.From != b.NodeID() {
		t.Fatalf("reply %+v", r)
	}
	sessions, forwarded, _ := g.RelayStats()
	if sessions != 1 || forwarded == 0 {
		t.Fatalf("relay stats: %d sessions, %d forwarded", sessions, forwarded)
	}
}

func TestUnknownNodeIsUnknownPeer(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{})
	a, _ := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g)}, Trace: nil}, natpunchtest.Echo())
	other, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: other.NodeID()}, Type: "echo"})
	if !errors.Is(err, connector.ErrUnknownPeer) {
		t.Fatalf("got %v, want ErrUnknownPeer", err)
	}
}
