package natpunch

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
)

// startBridgeServing runs a connector serving h, with NAT traversal
// configured by cfg, and waits for its registration.
func startBridgeServing(t testing.TB, cfg ClientConfig, h connector.Handler) (*connector.Connector, *Client) {
	t.Helper()
	c := connectortest.Start(t, connector.Config{}, nil)
	return c, startClientOn(t, c, cfg, h)
}

// startClientOn starts a NAT client on c configured by cfg, serving h
// unless it is nil, and waits for its registration; the test's cleanup
// closes it.
func startClientOn(t testing.TB, c *connector.Connector, cfg ClientConfig, h connector.Handler) *Client {
	t.Helper()
	cl, err := NewClient(c, cfg, natpunchtest.Logger("bridge"))
	if err != nil {
		t.Fatal(err)
	}
	if h != nil {
		c.SetHandler(cl.Handler(h))
	}
	if err := cl.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := cl.Registered(ctx); err != nil {
		t.Fatal(err)
	}
	return cl
}

// TestTCPRelayReachesUDPPeer runs a bridge whose gateway's UDP address
// never answers: it registers over the TCP relay, and it and a bridge on
// UDP reach each other, both ways, through one relay session.
func TestTCPRelayReachesUDPPeer(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{})
	a, _ := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g)}, Trace: nil}, natpunchtest.Echo())
	hole := natpunchtest.BlackHole(t)
	b, clb := startBridgeServing(t, ClientConfig{
		Gateways: []connector.Target{{NodeID: g.NodeID(), Endpoint: hole.LocalAddr().String()}},
		TCPRelay: g.Addrs()[0].String(),
	}, natpunchtest.Echo())
	if st := clb.TCPStats(); !st.Active || st.Fallbacks != 1 {
		t.Fatalf("TCP stats %+v, want active after one fallback", st)
	}
	if clients, accepted, _ := g.TCPStats(); clients != 1 || accepted != 1 {
		t.Fatalf("gateway TCP stats: %d clients, %d accepted", clients, accepted)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for i, dir := range []struct {
		from *connector.Connector
		to   identity.NodeID
	}{{a, b.NodeID()}, {b, a.NodeID()}, {a, b.NodeID()}} {
		r, err := dir.from.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: dir.to}, Type: "echo", Payload: []byte("over tcp")})
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if string(r.Payload) != "over tcp" || r.Path != connector.PathRelayed || r.From != dir.to {
			t.Fatalf("request %d: reply %+v", i, r)
		}
	}
	if sessions, forwarded, _ := g.RelayStats(); sessions != 1 || forwarded == 0 {
		t.Fatalf("relay stats: %d sessions, %d forwarded; want one session for both directions", sessions, forwarded)
	}
}

// TestProbeReportsUDPBlocked probes a gateway whose UDP never answers and
// whose TCP relay does: the report says UDP is blocked.
func TestProbeReportsUDPBlocked(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{})
	hole := natpunchtest.BlackHole(t)
	target := connector.Target{NodeID: g.NodeID(), Endpoint: hole.LocalAddr().String()}
	_, cl := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{target}, TCPRelay: g.Addrs()[0].String()}, natpunchtest.Echo())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cl.Probe(ctx, hole.LocalAddr().(*net.UDPAddr).AddrPort()); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("UDP probe: %v, want ErrNoAnswer", err)
	}
	r, err := cl.ProbeTCP(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if r.UDP != UDPBlocked || !strings.Contains(r.String(), "udp:        blocked") {
		t.Fatalf("report %+v", r)
	}
	up, err := cl.Probe(ctx, g.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	if up.UDP != UDPOK {
		t.Fatalf("UDP probe of a gateway that answers: udp %q", up.UDP)
	}
}

// TestTCPRelayReconnects cuts a bridge's TCP relay connection: the bridge opens a new one at once, registers again, and its
// peer reaches it through the relay as before.
func TestTCPRelayReconnects(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{})
	a, _ := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g)}, Trace: nil}, natpunchtest.Echo())
	hole := natpunchtest.BlackHole(t)
	b, clb := startBridgeServing(t, ClientConfig{
		Gateways: []connector.Target{{NodeID: g.NodeID(), Endpoint: hole.LocalAddr().String()}},
		TCPRelay: g.Addrs()[0].String(),
	}, natpunchtest.Echo())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ask := func(what string) {
		r, err := a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: b.NodeID()}, Type: "echo", Payload: []byte(what)})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if string(r.Payload) != what || r.Path != connector.PathRelayed {
			t.Fatalf("%s: reply %+v", what, r)
		}
	}
	ask("before the cut")
	clb.tcpLink().pc.ws.CloseNow() // the link breaks under the bridge
	if !natpunchtest.WaitUntil(ctx, func() bool { n, accepted, _ := g.TCPStats(); return n == 1 && accepted == 2 }) {
		t.Fatal("the bridge did not open a new TCP relay connection")
	}
	ask("after the cut")
	// A peer new to b reaches it too: the gateway tells b of the relay
	// session over b's new control connection.
	c, _ := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g)}, Trace: nil}, natpunchtest.Echo())
	r, err := c.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: b.NodeID()}, Type: "echo", Payload: []byte("new peer")})
	if err != nil {
		t.Fatalf("new peer: %v", err)
	}
	if string(r.Payload) != "new peer" || r.Path != connector.PathRelayed {
		t.Fatalf("new peer: reply %+v", r)
	}
	if st := clb.TCPStats(); !st.Active || st.Returns != 0 {
		t.Fatalf("TCP stats %+v, want still on the TCP relay", st)
	}
}
