package natpunch

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// startBridgeWith runs an echoing connector with NAT traversal configured
// by cfg and waits for its registration.
func startBridgeWith(t testing.TB, cfg ClientConfig) (*connector.Connector, *Client) {
	t.Helper()
	echo := connector.HandlerFunc(func(_ context.Context, m *connector.Message) (*connector.Response, error) {
		return &connector.Response{Payload: m.Payload}, nil
	})
	return startBridgeServing(t, cfg, echo)
}

// startBridgeServing runs a connector serving h, with NAT traversal
// configured by cfg, and waits for its registration.
func startBridgeServing(t testing.TB, cfg ClientConfig, h connector.Handler) (*connector.Connector, *Client) {
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
	var log *slog.Logger
	if os.Getenv("PEERBRIDGE_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cl, err := NewClient(c, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	c.SetHandler(cl.Handler(h))
	if err := cl.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cl.Close()
		c.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.Registered(ctx); err != nil {
		t.Fatal(err)
	}
	return c, cl
}

// blackHole is a UDP address that swallows everything, like a network
// that drops UDP.
func blackHole(t testing.TB) *net.UDPConn {
	t.Helper()
	u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	return u
}

// TestTCPRelayReachesUDPPeer runs a bridge whose gateway's UDP address
// never answers: it registers over the TCP relay, and it and a bridge on
// UDP reach each other, both ways, through one relay session.
func TestTCPRelayReachesUDPPeer(t *testing.T) {
	g := startGateway(t, RelayLimits{})
	a, _ := startBridge(t, g, nil)
	hole := blackHole(t)
	b, clb := startBridgeWith(t, ClientConfig{
		Gateways: []connector.Target{{NodeID: g.NodeID(), Endpoint: hole.LocalAddr().String()}},
		TCPRelay: g.Addrs()[0].String(),
	})
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
	g := startGateway(t, RelayLimits{})
	hole := blackHole(t)
	target := connector.Target{NodeID: g.NodeID(), Endpoint: hole.LocalAddr().String()}
	_, cl := startBridgeWith(t, ClientConfig{Gateways: []connector.Target{target}, TCPRelay: g.Addrs()[0].String()})
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

// TestTCPRelayReconnects cuts a bridge's TCP relay connection at the
// gateway: the bridge opens a new one at once, registers again, and its
// peer reaches it through the relay as before.
func TestTCPRelayReconnects(t *testing.T) {
	g := startGatewayWith(t, GatewayConfig{})
	a, _ := startBridge(t, g, nil)
	hole := blackHole(t)
	b, clb := startBridgeWith(t, ClientConfig{
		Gateways: []connector.Target{{NodeID: g.NodeID(), Endpoint: hole.LocalAddr().String()}},
		TCPRelay: g.Addrs()[0].String(),
	})
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
	g.tcp.mu.Lock()
	for _, c := range g.tcp.clients {
		c.ws.CloseNow()
	}
	g.tcp.mu.Unlock()
	if !waitUntil(ctx, func() bool { n, accepted, _ := g.TCPStats(); return n == 1 && accepted == 2 }) {
		t.Fatal("the bridge did not open a new TCP relay connection")
	}
	ask("after the cut")
	// A peer new to b reaches it too: the gateway tells b of the relay
	// session over b's new control connection.
	c, _ := startBridge(t, g, nil)
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
