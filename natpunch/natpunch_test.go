package natpunch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// startGateway runs a gateway on two loopback ports.
func startGateway(t *testing.T, limits RelayLimits) *Gateway {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGateway(GatewayConfig{Listen: []string{"127.0.0.1:0", "127.0.0.1:0"}, Relay: limits}, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// startBridge runs a connector with NAT traversal through g; it echoes
// requests.
func startBridge(t *testing.T, g *Gateway, trace func(Event)) (*connector.Connector, *Client) {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	c, err := connector.New(connector.Config{}, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	cl, err := NewClient(c, ClientConfig{
		Gateways: []connector.Target{{NodeID: g.NodeID(), Endpoint: g.Addrs()[0].String()}},
		Trace:    trace,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	echo := connector.HandlerFunc(func(_ context.Context, m *connector.Message) (*connector.Response, error) {
		return &connector.Response{Payload: m.Payload}, nil
	})
	c.SetHandler(cl.Handler(echo))
	if err := cl.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cl.Close()
		c.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Registered(ctx); err != nil {
		t.Fatal(err)
	}
	return c, cl
}

func TestRouteByNodeIDOnLoopbackIsDirect(t *testing.T) {
	g := startGateway(t, RelayLimits{})
	events := make(chan Event, 16)
	a, cla := startBridge(t, g, func(e Event) { events <- e })
	b, _ := startBridge(t, g, nil)
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
	if rep == nil || rep.NATType != "none" || rep.Mapping != MappingIndependent || rep.Filtering != FilteringIndependent {
		t.Fatalf("loopback NAT report %+v", rep)
	}
}

func TestRelayCarriesEndToEndQUIC(t *testing.T) {
	g := startGateway(t, RelayLimits{})
	a, cla := startBridge(t, g, nil)
	b, _ := startBridge(t, g, nil)
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
	g := startGateway(t, RelayLimits{})
	a, _ := startBridge(t, g, nil)
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
