package natpunch

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
)

// TestGatewayFailover is issue 21, item 1: bridges configured with two
// gateways lose the first. A bridge that started before still reaches a
// peer registered at both, through the second, after one failed attempt at
// the first, which it then skips; a bridge that starts afterwards registers
// at the second alone and reaches the peer too.
func TestGatewayFailover(t *testing.T) {
	g1 := natpunchtest.StartGateway(t, gateway.Config{})
	g2 := natpunchtest.StartGateway(t, gateway.Config{})
	both := []connector.Target{natpunchtest.Target(g1), natpunchtest.Target(g2)}
	var mu sync.Mutex
	var downs []string
	trace := func(e Event) {
		if e.Step == "gateway-down" {
			mu.Lock()
			downs = append(downs, string(e.Peer))
			mu.Unlock()
		}
	}
	b, _ := startBridgeServing(t, ClientConfig{Gateways: both}, natpunchtest.Echo())
	c, _ := startBridgeServing(t, ClientConfig{Gateways: both}, natpunchtest.Echo())
	a, _ := startBridgeServing(t, ClientConfig{Gateways: both, Trace: trace}, natpunchtest.Echo())
	if err := g1.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	ask := func(from, to *connector.Connector) error {
		_, err := from.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: to.NodeID()}, Type: "echo", Payload: []byte("hi")})
		return err
	}
	if err := ask(a, b); err != nil {
		t.Fatalf("a bridge that knew both gateways, after the first died: %v", err)
	}
	if err := ask(a, c); err != nil {
		t.Fatalf("its next peer: %v", err)
	}
	mu.Lock()
	got := append([]string(nil), downs...)
	mu.Unlock()
	if len(got) != 1 || got[0] != string(g1.NodeID()) {
		t.Errorf("gateways marked down: %v, want the first once", got)
	}
	late, _ := startBridgeServing(t, ClientConfig{Gateways: both}, natpunchtest.Echo())
	if err := ask(late, b); err != nil {
		t.Fatalf("a bridge that started after the first gateway died: %v", err)
	}
}

// TestTCPFallbackTriesEveryGateway: when UDP reaches no gateway, a bridge
// falls back to the TCP relay of the first gateway, in order, whose relay
// answers, not only to the first gateway's.
func TestTCPFallbackTriesEveryGateway(t *testing.T) {
	dead := natpunchtest.StartGateway(t, gateway.Config{})
	deadTarget := natpunchtest.Target(dead)
	dead.Close()
	g := natpunchtest.StartGateway(t, gateway.Config{ListenTCP: []string{"127.0.0.1:0"}})
	tcp := g.TCPAddrs()[0]
	// The UDP port with the TCP relay's number swallows everything: this
	// gateway answers only over TCP.
	_, port, _ := net.SplitHostPort(tcp)
	hole, err := net.ListenPacket("udp", "127.0.0.1:"+port)
	if err != nil {
		t.Skipf("the TCP relay's port number is taken for UDP: %v", err)
	}
	defer hole.Close()
	_, cl := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{deadTarget, {NodeID: g.NodeID(), Endpoint: tcp}}}, natpunchtest.Echo())
	if st := cl.TCPStats(); !st.Active || st.Fallbacks != 1 {
		t.Errorf("TCP relay state %+v: want active through the second gateway", st)
	}
}
