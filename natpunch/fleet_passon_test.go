package natpunch

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/fleet"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// startDualStackFleetGateway runs a gateway of the fleet on ns on one
// dual-stack socket, [::]:0, and returns it with its IPv4 and IPv6
// loopback addresses.
func startDualStackFleetGateway(t *testing.T, ns *server.Server) (g *gateway.Gateway, v4, v6 string) {
	t.Helper()
	g = startFleetGatewayConfig(t, ns, gateway.Config{Listen: []string{"[::]:0"}, ListenTCP: []string{"off"}})
	port := g.Addrs()[0].Port()
	return g, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port).String(), "[::1]:" + strconv.Itoa(int(port))
}

// startDualStackFleetBridge starts a bridge registered at the dual-stack
// gateway g by a name that resolves to ::1 and 127.0.0.1: it registers
// over IPv6 and g checks its IPv4 address, its reflexive one.
func startDualStackFleetBridge(t *testing.T, g *gateway.Gateway) (*connector.Connector, *Client) {
	t.Helper()
	cfg := ClientConfig{
		Gateways: []connector.Target{{NodeID: g.NodeID(), Endpoint: "gateway.test:" + strconv.Itoa(int(g.Addrs()[0].Port()))}},
		Resolve:  resolveTo("::1", "127.0.0.1"),
	}
	return startDualStackBridge(t, g, "", cfg)
}

// registerRaw registers the bare key c at the gateway g at addr with reg.
func registerRaw(ctx context.Context, t *testing.T, c *connector.Connector, g *gateway.Gateway, addr string, reg *wire.Registration) {
	t.Helper()
	payload, err := wire.Encode(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: g.NodeID(), Endpoint: addr}, Type: wire.TypeRegister, Payload: payload}); err != nil {
		t.Fatalf("registering %s at %s: %v", c.NodeID().Short(), addr, err)
	}
}

// askRaw sends the gateway g at addr a request of type typ about id from c
// and decodes its answer into out.
func askRaw(ctx context.Context, c *connector.Connector, g *gateway.Gateway, addr, typ string, id identity.NodeID, out any) error {
	req, err := wire.Encode(&wire.NodeRequest{Node: string(id)})
	if err != nil {
		return err
	}
	r, err := c.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: g.NodeID(), Endpoint: addr}, Type: typ, Payload: req})
	if err != nil {
		return err
	}
	return wire.Decode(r.Payload, out)
}

// TestFleetLookupPassesOnAddresses: a lookup through another gateway of
// the fleet answers what a lookup at the node's home answers of the
// node's addresses: a dual-stack bridge's checked address of the other
// family (Reflexive) and a bridge's port mapping (Mapped).
func TestFleetLookupPassesOnAddresses(t *testing.T) {
	ns := natpunchtest.StartNATS(t)
	g1, g1v4, _ := startDualStackFleetGateway(t, ns)
	g2, g2v4, g2v6 := startDualStackFleetGateway(t, ns)
	b, _ := startDualStackFleetBridge(t, g2)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	mapped := connectortest.Start(t, connector.Config{}, nil)
	registerRaw(ctx, t, mapped, g2, g2v4, &wire.Registration{Mapped: "198.51.100.7:6000", Mapping: wire.MappingIndependent, Filtering: wire.FilteringIndependent})
	asker := connectortest.Start(t, connector.Config{}, nil)
	registerRaw(ctx, t, asker, g1, g1v4, &wire.Registration{Mapping: wire.MappingIndependent, Filtering: wire.FilteringIndependent})
	for _, tc := range []struct {
		name string
		id   identity.NodeID
	}{
		{"a dual-stack bridge", b.NodeID()},
		{"a bridge with a port mapping", mapped.NodeID()},
	} {
		var home, via wire.PeerInfo
		if err := askRaw(ctx, b, g2, g2v6, wire.TypeLookup, tc.id, &home); err != nil {
			t.Fatalf("%s: lookup at its home: %v", tc.name, err)
		}
		if err := askRaw(ctx, asker, g1, g1v4, wire.TypeLookup, tc.id, &via); err != nil {
			t.Fatalf("%s: lookup through the fleet: %v", tc.name, err)
		}
		if len(home.Reflexive)+len(home.Mapped) == 0 {
			t.Fatalf("%s: its home answers neither a reflexive nor a mapped address: %+v", tc.name, home)
		}
		if via.Observed != home.Observed || via.Mapped != home.Mapped || !slices.Equal(via.Reflexive, home.Reflexive) || via.Home != string(g2.NodeID()) {
			t.Fatalf("%s: through the fleet %+v; at its home %+v", tc.name, via, home)
		}
	}
}

// TestFleetPunchPassesOnReflexive: a punch across gateways hands each side
// the other's checked address of the other family, as a punch at one
// gateway does: the asker's plan carries the node's, and the node's
// notification the asker's.
func TestFleetPunchPassesOnReflexive(t *testing.T) {
	ns := natpunchtest.StartNATS(t)
	g1, g1v4, g1v6 := startDualStackFleetGateway(t, ns)
	g2, g2v4, g2v6 := startDualStackFleetGateway(t, ns)
	a, _ := startDualStackFleetBridge(t, g1)
	b, _ := startDualStackFleetBridge(t, g2)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var aInfo, bInfo wire.PeerInfo
	if err := askRaw(ctx, a, g1, g1v6, wire.TypeLookup, a.NodeID(), &aInfo); err != nil {
		t.Fatal(err)
	}
	if err := askRaw(ctx, b, g2, g2v6, wire.TypeLookup, b.NodeID(), &bInfo); err != nil {
		t.Fatal(err)
	}
	if len(aInfo.Reflexive) == 0 || len(bInfo.Reflexive) == 0 {
		t.Fatalf("no reflexive address: a %+v, b %+v", aInfo, bInfo)
	}

	// A bare key at G1 asks for a punch with b at G2: its plan.
	asker := connectortest.Start(t, connector.Config{}, nil)
	registerRaw(ctx, t, asker, g1, g1v4, &wire.Registration{Mapping: wire.MappingIndependent, Filtering: wire.FilteringIndependent})
	var plan wire.PunchPlan
	if err := askRaw(ctx, asker, g1, g1v4, wire.TypePunchAsk, b.NodeID(), &plan); err != nil {
		t.Fatalf("punch through the fleet: %v", err)
	}
	if !slices.Equal(plan.Reflexive, bInfo.Reflexive) {
		t.Fatalf("the asker's plan names reflexive %v; b's home holds %v", plan.Reflexive, bInfo.Reflexive)
	}

	// a at G1 asks for a punch with a bare key at G2: its notification.
	notified := make(chan wire.PunchPlan, 1) // the first notification; later ones are not waited for
	node := connectortest.Start(t, connector.Config{}, connector.HandlerFunc(func(_ context.Context, m *connector.Message) (*connector.Response, error) {
		var p wire.PunchPlan
		if m.Type == wire.TypePunchNotify && wire.Decode(m.Payload, &p) == nil {
			select {
			case notified <- p:
			default:
			}
		}
		return &connector.Response{}, nil
	}))
	registerRaw(ctx, t, node, g2, g2v4, &wire.Registration{Mapping: wire.MappingIndependent, Filtering: wire.FilteringIndependent})
	if err := askRaw(ctx, a, g1, g1v6, wire.TypePunchAsk, node.NodeID(), &plan); err != nil {
		t.Fatalf("punch through the fleet: %v", err)
	}
	select {
	case p := <-notified:
		if p.Node != string(a.NodeID()) || !slices.Equal(p.Reflexive, aInfo.Reflexive) {
			t.Fatalf("the node was told of %s with reflexive %v; a's home holds %v", p.Node, p.Reflexive, aInfo.Reflexive)
		}
	case <-ctx.Done():
		t.Fatal("the node was never told of the punch")
	}
}

// TestFleetLookupPassesOverStaleNotFound: a gateway whose subscription to
// a node outlived its record (here a bare NATS subscriber on the node's
// subjects) answers not-found, faster than the node's home; a lookup
// through a third gateway finds the node all the same.
func TestFleetLookupPassesOverStaleNotFound(t *testing.T) {
	ns := natpunchtest.StartNATS(t)
	g1, g2 := startFleetGateway(t, ns), startFleetGateway(t, ns)
	b, _ := startBridgeServing(t, at(g2), natpunchtest.Echo())
	_, cla := startBridgeServing(t, at(g1), natpunchtest.Echo())
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var stale atomic.Int32
	staleSubscriber(t, ns.ClientURL(), fleet.DefaultPrefix+"."+string(b.NodeID())+".*", &stale)
	const lookups = 10
	for i := range lookups {
		info, err := lookupAt(ctx, cla, g1, b.NodeID())
		if err != nil || info.Home != string(g2.NodeID()) {
			t.Fatalf("lookup %d with a stale gateway in the fleet: %+v, %v", i, info, err)
		}
	}
	// Every ask reached the stale gateway too; its answer may come after
	// the home's.
	if !natpunchtest.WaitUntil(ctx, func() bool { return stale.Load() >= lookups }) {
		t.Fatalf("the stale gateway answered %d of %d lookups", stale.Load(), lookups)
	}
}

// staleSubscriber answers every ask on subject not-found at once, as a
// gateway answers for a node it no longer holds, counting them in n.
func staleSubscriber(t *testing.T, url, subject string, n *atomic.Int32) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	_, err = nc.Subscribe(subject, func(m *nats.Msg) {
		r := nats.NewMsg(m.Reply)
		r.Header.Set("Nats-Service-Error", "gateway: node is not registered")
		r.Header.Set("Nats-Service-Error-Code", strconv.Itoa(connector.CodeNotFound))
		if nc.PublishMsg(r) == nil {
			n.Add(1)
		}
	})
	if err == nil {
		err = nc.Flush()
	}
	if err != nil {
		t.Fatal(err)
	}
}
