package natpunch

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/connector/identity"
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
	return c, startClientOn(t, c, cfg, natpunchtest.Echo())
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

// resolveTo returns a resolver that answers every name with addrs.
func resolveTo(addrs ...string) ResolveFunc {
	return func(context.Context, string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		return out, nil
	}
}

// remoteOf returns the remote address of c's pooled connection to id.
func remoteOf(c *connector.Connector, id identity.NodeID) netip.AddrPort {
	for _, p := range c.Peers() {
		if p.Node == id && p.Pooled {
			return p.Remote
		}
	}
	return netip.AddrPort{}
}

// TestGatewayNameResolvesToBothFamilies runs a dual-stack gateway known by
// a name with an AAAA and an A record. The bridges register over IPv6
// (the resolver's first), the gateway learns their IPv4 addresses from
// token-answered probes, a lookup carries both, a direct dial takes IPv6
// first, and the relay works over the family the bridges registered on.
func TestGatewayNameResolvesToBothFamilies(t *testing.T) {
	g, port := startDualStackGateway(t)
	cfg := ClientConfig{
		Gateways: []connector.Target{{NodeID: g.NodeID(), Endpoint: "gateway.test:" + strconv.Itoa(int(port))}},
		Resolve:  resolveTo("::1", "127.0.0.1"),
	}
	a, cla := startDualStackBridge(t, g, "", cfg)
	b, _ := startDualStackBridge(t, g, "", cfg)
	gw := cla.gateways[0]
	if got, want := gw.candidates(), []netip.AddrPort{netip.AddrPortFrom(netip.IPv6Loopback(), port), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)}; !slices.Equal(got, want) {
		t.Fatalf("gateway addresses %v, want %v", got, want)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	rec, err := cla.lookup(ctx, gw, b.NodeID())
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Observed.Addr().Is6() || len(rec.Reflexive) != 1 || !rec.Reflexive[0].Addr().Is4() || rec.Reflexive[0].Port() != b.Addr().Port() {
		t.Fatalf("b's record: observed %v, reflexive %v; want IPv6 and b's IPv4 address", rec.Observed, rec.Reflexive)
	}
	r, err := a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: b.NodeID()}, Type: "echo", Payload: []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	if r.Path != connector.PathDirect || !remoteOf(a, b.NodeID()).Addr().Is6() {
		t.Fatalf("reply on %s from %v, want direct over IPv6", r.Path, remoteOf(a, b.NodeID()))
	}
	if _, err := cla.relayTo(ctx, gw, b.NodeID()); err != nil {
		t.Fatalf("relayed dial: %v", err)
	}
}

// TestGatewayFailsOverToOtherFamily resolves the gateway's name to an IPv6
// address nothing answers at, then its IPv4 address: the bridge registers
// over IPv4, once the IPv6 attempt has failed.
func TestGatewayFailsOverToOtherFamily(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{Listen: []string{"127.0.0.1:0"}, ListenTCP: []string{"off"}})
	port := g.Addrs()[0].Port()
	cfg := ClientConfig{
		Gateways: []connector.Target{{NodeID: g.NodeID(), Endpoint: "gateway.test:" + strconv.Itoa(int(port))}},
		Resolve:  resolveTo("::1", "127.0.0.1"),
		TCPRelay: wire.TCPOff,
	}
	c, cl := startDualStackBridge(t, g, "", cfg)
	if at := cl.gateways[0].at(); !at.Addr().Is4() {
		t.Fatalf("registered at %v, want the gateway's IPv4 address", at)
	}
	if remote := remoteOf(c, g.NodeID()); !remote.Addr().Unmap().Is4() {
		t.Fatalf("control connection to %v, want IPv4", remote)
	}
}

// TestGatewayNameLookedUpAgain changes what the gateway's name resolves
// to: at the next round the bridge knows the new addresses, keeps its
// address while the name still has it, and moves when it no longer does.
func TestGatewayNameLookedUpAgain(t *testing.T) {
	g, port := startDualStackGateway(t)
	var answer atomic.Pointer[[]netip.Addr]
	set := func(addrs ...string) {
		var out []netip.Addr
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		answer.Store(&out)
	}
	set("127.0.0.1")
	cfg := ClientConfig{
		Gateways: []connector.Target{{NodeID: g.NodeID(), Endpoint: "gateway.test:" + strconv.Itoa(int(port))}},
		Resolve:  func(context.Context, string) ([]netip.Addr, error) { return *answer.Load(), nil },
	}
	_, cl := startDualStackBridge(t, g, "", cfg)
	gw := cl.gateways[0]
	v4, v6 := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), netip.AddrPortFrom(netip.IPv6Loopback(), port)
	steps := []struct {
		resolves []string
		wantAt   netip.AddrPort
		wantAll  []netip.AddrPort
	}{
		{[]string{"::1", "127.0.0.1"}, v4, []netip.AddrPort{v6, v4}},
		{[]string{"::1"}, v6, []netip.AddrPort{v6}},
	}
	for _, s := range steps {
		set(s.resolves...)
		cl.reresolve(t.Context())
		if gw.at() != s.wantAt || !slices.Equal(gw.candidates(), s.wantAll) {
			t.Fatalf("resolving to %v: at %v of %v, want %v of %v", s.resolves, gw.at(), gw.candidates(), s.wantAt, s.wantAll)
		}
	}
}
