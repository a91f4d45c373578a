package natpunch

import (
	"context"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// startDualStackGateway runs a gateway on one dual-stack socket, [::]:0,
// reachable at both 127.0.0.1 and ::1, and returns it with its port.
func startDualStackGateway(t *testing.T) (*gateway.Gateway, uint16) {
	t.Helper()
	g := natpunchtest.StartGateway(t, gateway.Config{Listen: []string{"[::]:0"}, ListenTCP: []string{"off"}})
	return g, g.Addrs()[0].Port()
}

// startDualStackBridge starts a bridge on a dual-stack socket whose
// connector already holds its control connection to g at ctrl, as when the
// connector resolved the gateway's name to one family and NAT traversal to
// the other, then starts its NAT client with gateway gw.
func startDualStackBridge(t *testing.T, g *gateway.Gateway, ctrl string, cfg ClientConfig) (*connector.Connector, *Client) {
	t.Helper()
	c := connectortest.Start(t, connector.Config{ListenAddr: "[::]:0"}, nil)
	if ctrl != "" {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		// Any answer, even a refusal, leaves the connection pooled.
		_, _ = c.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: g.NodeID(), Endpoint: ctrl}, Type: wire.TypeLookup, Payload: []byte{0x80}})
		if _, ok := c.PathTo(g.NodeID()); !ok {
			t.Fatalf("no control connection to the gateway at %s", ctrl)
		}
	}
	cl, err := NewClient(c, cfg, natpunchtest.Logger("bridge"))
	if err != nil {
		t.Fatal(err)
	}
	c.SetHandler(cl.Handler(natpunchtest.Echo()))
	if err := cl.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := cl.Registered(ctx); err != nil {
		t.Fatal(err)
	}
	return c, cl
}

// TestRelayWhenGatewayReachedOverOtherFamily is the dual-stack bug of
// issue 22: the bridges' control connections to the gateway run over IPv6
// while NAT traversal knows the gateway by its IPv4 address. The relay
// session opens, and the relayed connection must still carry requests both
// ways (before the fix: "timeout: no recent network activity").
func TestRelayWhenGatewayReachedOverOtherFamily(t *testing.T) {
	g, port := startDualStackGateway(t)
	v4 := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port).String()
	v6 := "[::1]:" + strconv.Itoa(int(port))
	gw := []connector.Target{{NodeID: g.NodeID(), Endpoint: v4}}
	a, cla := startDualStackBridge(t, g, v6, ClientConfig{Gateways: gw})
	b, _ := startDualStackBridge(t, g, v6, ClientConfig{Gateways: gw})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := cla.relayTo(ctx, cla.gateways[0], b.NodeID()); err != nil {
		sessions, forwarded, dropped := g.RelayStats()
		t.Fatalf("relayed dial: %v (gateway: %d sessions, %d forwarded, %d dropped; bridge a relay %+v)", err, sessions, forwarded, dropped, cla.RelayStats())
	}
	for _, dir := range []struct {
		from, to *connector.Connector
	}{{a, b}, {b, a}} {
		r, err := dir.from.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: dir.to.NodeID()}, Type: "echo", Payload: []byte("over the relay")})
		if err != nil {
			t.Fatalf("request %s -> %s: %v", dir.from.NodeID().Short(), dir.to.NodeID().Short(), err)
		}
		if r.Path != connector.PathRelayed || string(r.Payload) != "over the relay" {
			t.Fatalf("reply %+v, want the payload back over the relay", r)
		}
	}
	if _, forwarded, _ := g.RelayStats(); forwarded == 0 {
		t.Fatal("the gateway forwarded nothing")
	}
}
