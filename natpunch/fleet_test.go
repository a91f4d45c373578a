package natpunch

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
	"github.com/peerbridge/peerbridge/natpunch/fleet"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// startFleetGateway runs a gateway in the fleet on ns's NATS.
func startFleetGateway(t testing.TB, ns *server.Server) *gateway.Gateway {
	return startFleetGatewayWith(t, ns, gateway.Limits{})
}

// startFleetGatewayWith runs a gateway with limits l in the fleet on ns's
// NATS.
func startFleetGatewayWith(t testing.TB, ns *server.Server, l gateway.Limits) *gateway.Gateway {
	return startFleetGatewayConfig(t, ns, gateway.Config{Listen: []string{"127.0.0.1:0", "127.0.0.1:0"}, Limits: l})
}

// startFleetGatewayConfig runs a gateway configured by cfg in the fleet on
// ns's NATS.
func startFleetGatewayConfig(t testing.TB, ns *server.Server, cfg gateway.Config) *gateway.Gateway {
	t.Helper()
	g, _ := startFleetGatewayKill(t, ns, cfg)
	return g
}

// startFleetGatewayKill runs a gateway configured by cfg in the fleet on
// ns's NATS (with extra options for its connection), and returns it with
// a kill that stops it as its process's death would: its NATS connection
// goes with it.
func startFleetGatewayKill(t testing.TB, ns *server.Server, cfg gateway.Config, extra ...nats.Option) (*gateway.Gateway, func()) {
	t.Helper()
	opts := append(fleet.ConnOptions(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	nc, err := nats.Connect(ns.ClientURL(), append(opts, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	// A shared, loaded test machine can answer later than the default
	// stall; a count that misses a holder admits, which tests of the
	// fleet-wide bound would take for a failure.
	f := fleet.New(nc, fleet.Config{GatherStall: 500 * time.Millisecond}, natpunchtest.Logger("fleet"))
	g, err := gateway.New(cfg, natpunchtest.Identity(t), natpunchtest.Logger("gateway"))
	if err != nil {
		t.Fatal(err)
	}
	g.JoinFleet(f)
	if err := g.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	kill := func() { g.Close(); f.Close(); nc.Close() }
	t.Cleanup(kill)
	return g, kill
}

// at is a bridge config registering at g alone.
func at(g *gateway.Gateway) ClientConfig {
	return ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g)}}
}

// fleetPair is two gateways in a fleet, bridge a registered at G1 alone
// and b at G2 alone.
type fleetPair struct {
	g1, g2   *gateway.Gateway
	a, b     *connector.Connector
	cla, clb *Client
}

func startFleetPair(t *testing.T) fleetPair {
	t.Helper()
	ns := natpunchtest.StartNATS(t)
	var f fleetPair
	f.g1, f.g2 = startFleetGateway(t, ns), startFleetGateway(t, ns)
	f.b, f.clb = startBridgeServing(t, at(f.g2), natpunchtest.Echo())
	f.a, f.cla = startBridgeServing(t, at(f.g1), natpunchtest.Echo())
	return f
}

// lookupAt asks gateway g for id's record, as a bridge's route does.
func lookupAt(ctx context.Context, cl *Client, g *gateway.Gateway, id identity.NodeID) (wire.PeerInfo, error) {
	var info wire.PeerInfo
	gw := gatewayRef{target: natpunchtest.Target(g)}
	err := cl.ask(ctx, gw, wire.TypeLookup, &wire.NodeRequest{Node: string(id)}, &info)
	return info, err
}

// TestFleetFindsAndReaches is issue 21, item 2: a bridge registered only
// at G2 is found through G1, with G2 named as its home, and reached by a
// bridge registered only at G1 (directly, on loopback).
func TestFleetFindsAndReaches(t *testing.T) {
	f := startFleetPair(t)
	g1, g2, a, b, cla := f.g1, f.g2, f.a, f.b, f.cla
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	info, err := lookupAt(ctx, cla, g1, b.NodeID())
	if err != nil {
		t.Fatal(err)
	}
	if info.Home != string(g2.NodeID()) || info.HomeAddr != g2.Addrs()[0].String() || info.Observed != b.Addr().String() {
		t.Fatalf("lookup through G1: %+v; want home %s@%s, observed %s", info, g2.NodeID().Short(), g2.Addrs()[0], b.Addr())
	}
	r, err := a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: b.NodeID()}, Type: "echo", Payload: []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Payload) != "hi" || r.Path != connector.PathDirect {
		t.Fatalf("reply %+v", r)
	}
	if s := g1.Stats(); !s.InFleet || !s.FleetUp || s.FleetFound == 0 {
		t.Fatalf("G1's fleet stats %+v", s)
	}
	if s := g2.Stats(); s.FleetServed == 0 {
		t.Fatalf("G2 served no ask: %+v", s)
	}
}

// TestFleetRegistrationGoesWithBridge: a registration is gone from the
// whole fleet once its bridge has left.
func TestFleetRegistrationGoesWithBridge(t *testing.T) {
	f := startFleetPair(t)
	g1, g2, b, cla, clb := f.g1, f.g2, f.b, f.cla, f.clb
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if _, err := lookupAt(ctx, cla, g1, b.NodeID()); err != nil {
		t.Fatal(err)
	}
	clb.Close()
	b.Close()
	var err error
	gone := natpunchtest.WaitUntil(ctx, func() bool {
		_, err = lookupAt(ctx, cla, g1, b.NodeID())
		return errors.Is(err, connector.ErrUnknownPeer)
	})
	if !gone {
		t.Fatalf("the bridge left, and G1 still answers %v", err)
	}
	if n := g2.Stats().Registrations; n != 0 {
		t.Fatalf("G2 holds %d registrations after its bridge left", n)
	}
}

// TestFleetLostNATS: a gateway that loses its NATS keeps serving its own
// registrations, and says so in its health and stats.
func TestFleetLostNATS(t *testing.T) {
	ns := natpunchtest.StartNATS(t)
	g1 := startFleetGateway(t, ns)
	a, _ := startBridgeServing(t, at(g1), natpunchtest.Echo())
	c, _ := startBridgeServing(t, at(g1), natpunchtest.Echo())
	ns.Shutdown()
	ns.WaitForShutdown()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if !natpunchtest.WaitUntil(ctx, func() bool { return g1.FleetErr() != nil }) {
		t.Fatal("G1 does not report the lost NATS")
	}
	if s := g1.Stats(); !s.InFleet || s.FleetUp {
		t.Fatalf("stats after NATS went: %+v", s)
	}
	start := time.Now()
	r, err := a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: c.NodeID()}, Type: "echo", Payload: []byte("still")})
	if err != nil || string(r.Payload) != "still" {
		t.Fatalf("a bridge at the gateway that lost NATS, to another there: %v %+v", err, r)
	}
	t.Logf("own registrations served without NATS in %v", time.Since(start))
}

// TestFleetPunchAcrossGateways is issue 21, item 2's punch: A at G1 asks
// G1 for a punch with B at G2; G2 tells B the plan G1 timed, and the punch
// makes a connection.
func TestFleetPunchAcrossGateways(t *testing.T) {
	f := startFleetPair(t)
	a, b, cla := f.a, f.b, f.cla
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	start := time.Now()
	conn, err := cla.punch(ctx, cla.gateways[0], b.NodeID())
	if err != nil {
		t.Fatal(err)
	}
	if conn.Path() != connector.PathPunched || conn.Node() != b.NodeID() {
		t.Fatalf("punch made a connection on %q to %s", conn.Path(), conn.Node().Short())
	}
	t.Logf("punched across gateways in %v", time.Since(start))
	r, err := a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: b.NodeID()}, Type: "echo", Payload: []byte("punched")})
	if err != nil || string(r.Payload) != "punched" || r.Path != connector.PathPunched {
		t.Fatalf("request over the punched path: %v %+v", err, r)
	}
}

// TestFleetRelayAcrossGateways is issue 21, item 2's relay: A at G1 asks
// G1 for a relay to B at G2; G1 forwards the session's packets to G2 and
// G2 to B, and the peers' QUIC runs end to end through both.
func TestFleetRelayAcrossGateways(t *testing.T) {
	f := startFleetPair(t)
	g1, g2, a, b, cla := f.g1, f.g2, f.a, f.b, f.cla
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	conn, err := cla.relayTo(ctx, cla.gateways[0], b.NodeID())
	if err != nil {
		t.Fatal(err)
	}
	if conn.Path() != connector.PathRelayed || conn.Node() != b.NodeID() {
		t.Fatalf("relayTo made a connection on %q to %s", conn.Path(), conn.Node().Short())
	}
	r, err := a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: b.NodeID()}, Type: "echo", Payload: []byte("two hops")})
	if err != nil || string(r.Payload) != "two hops" || r.Path != connector.PathRelayed {
		t.Fatalf("request through the relay: %v %+v", err, r)
	}
	for i, g := range []*gateway.Gateway{g1, g2} {
		if sessions, forwarded, _ := g.RelayStats(); sessions != 1 || forwarded == 0 {
			t.Errorf("G%d relay stats: %d sessions, %d forwarded", i+1, sessions, forwarded)
		}
	}
}

// BenchmarkFleetLookup measures a bridge's lookup of a node registered at
// the gateway it asks (local) and at another gateway of the fleet (fleet:
// one NATS request-reply more), with the rate limits off.
func BenchmarkFleetLookup(b *testing.B) {
	ns := natpunchtest.StartNATS(b)
	off := ratelimit.Rate{PerSecond: -1}
	l := gateway.Limits{Lookups: off, Requests: off}
	g1, g2 := startFleetGatewayWith(b, ns, l), startFleetGatewayWith(b, ns, l)
	target, _ := startBridgeServing(b, at(g2), natpunchtest.Echo())
	_, cl := startBridgeServing(b, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g1), natpunchtest.Target(g2)}}, natpunchtest.Echo())
	for _, c := range []struct {
		name string
		at   *gateway.Gateway
	}{{"local", g2}, {"fleet", g1}} {
		b.Run(c.name, func(b *testing.B) {
			took := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				if _, err := lookupAt(b.Context(), cl, c.at, target.NodeID()); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// TestFleetLimitsHoldAtHome is issue 21, item 3: what a key aims at a node
// is charged at the node's home, whichever gateway the key asks at. G1
// would allow A any number of relay requests toward B; B's home G2 allows
// one, and refuses A's second, made at G1.
func TestFleetLimitsHoldAtHome(t *testing.T) {
	ns := natpunchtest.StartNATS(t)
	off := ratelimit.Rate{PerSecond: -1}
	g1 := startFleetGatewayWith(t, ns, gateway.Limits{Relays: off, Notifies: off, PairNotifies: off})
	g2 := startFleetGatewayWith(t, ns, gateway.Limits{PairNotifies: ratelimit.Rate{PerSecond: 0.001, Burst: 1}})
	b, _ := startBridgeServing(t, at(g2), natpunchtest.Echo())
	_, cla := startBridgeServing(t, at(g1), natpunchtest.Echo())
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if _, err := cla.relayTo(ctx, cla.gateways[0], b.NodeID()); err != nil {
		t.Fatal(err)
	}
	_, err := cla.relayTo(ctx, cla.gateways[0], b.NodeID())
	var re *connector.RemoteError
	if !errors.As(err, &re) || re.Code != wire.CodeRateLimited {
		t.Fatalf("a second relay ask toward B through G1: %v, want G2's 429", err)
	}
	if n := g2.Stats().PairLimited; n != 1 {
		t.Fatalf("G2 refused %d asks by the pair rate, want 1", n)
	}
}
