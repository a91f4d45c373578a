package natpunch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
	"github.com/peerbridge/peerbridge/natpunch/fleet"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// startFleet runs n gateways with limits l in one fleet on a new NATS.
func startFleet(t *testing.T, n int, l gateway.Limits) (*server.Server, []*gateway.Gateway) {
	t.Helper()
	ns := natpunchtest.StartNATS(t)
	gws := make([]*gateway.Gateway, n)
	for i := range gws {
		gws[i] = startFleetGatewayWith(t, ns, l)
	}
	return ns, gws
}

// registerEverywhere registers the bare key c at every gateway at once,
// as a hostile key would, and returns each gateway's answer.
func registerEverywhere(ctx context.Context, c *connector.Connector, gws []*gateway.Gateway) []error {
	payload, _ := wire.Encode(&wire.Registration{Mapping: wire.MappingIndependent, Filtering: wire.FilteringIndependent})
	errs := make([]error, len(gws))
	var wg sync.WaitGroup
	for i, g := range gws {
		wg.Go(func() {
			_, errs[i] = c.Request(ctx, connector.Outbound{Target: natpunchtest.Target(g), Type: wire.TypeRegister, Payload: payload})
		})
	}
	wg.Wait()
	return errs
}

// heldElsewhere counts the gateways that answered wire.CodeNotHeld
// and fails on any other error.
func countHeldElsewhere(t *testing.T, errs []error) int {
	t.Helper()
	n := 0
	for i, err := range errs {
		var re *connector.RemoteError
		switch {
		case err == nil:
		case errors.As(err, &re) && re.Code == wire.CodeNotHeld:
			n++
		default:
			t.Fatalf("registration at gateway %d: %v", i, err)
		}
	}
	return n
}

// holding counts the gateways that hold a registration.
func holding(gws []*gateway.Gateway) int {
	n := 0
	for _, g := range gws {
		n += g.Stats().Registrations
	}
	return n
}

// TestFleetKeyHeldAtMostCap is issue 21, item 3's fleet-wide bound: a key
// that registers at all 4 gateways of a fleet at once, again and again,
// is held at no more than MaxGatewaysPerKey (2) of them, the others answer
// held-elsewhere (counted), and its lookups are served only where it is
// held: in all, at most 2 × its lookup burst, however many gateways it
// asks.
func TestFleetKeyHeldAtMostCap(t *testing.T) {
	const most, burst = 2, 5
	_, gws := startFleet(t, 4, gateway.Limits{MaxGatewaysPerKey: most, Lookups: ratelimit.Rate{PerSecond: 0.001, Burst: burst}})
	key := connectortest.Start(t, connector.Config{}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for round := range 3 { // the first admits; the refreshes check again
		errs := registerEverywhere(ctx, key, gws)
		refused := countHeldElsewhere(t, errs)
		if held := holding(gws); held != most || refused != len(gws)-most {
			t.Fatalf("round %d: %d gateways hold the key and %d refused it, want %d and %d", round, held, refused, most, len(gws)-most)
		}
	}
	var refusedAll uint64
	for _, g := range gws {
		refusedAll += g.Stats().RegistrationsHeldElsewhere
	}
	if refusedAll != 3*uint64(len(gws)-most) {
		t.Errorf("registrations counted as held elsewhere: %d, want %d", refusedAll, 3*(len(gws)-most))
	}

	served := 0
	cl := &Client{c: key}
	for range 3 * burst {
		for _, g := range gws {
			if _, err := lookupAt(ctx, cl, g, key.NodeID()); err == nil {
				served++
			}
		}
	}
	if served != most*burst {
		t.Errorf("%d lookups served across the fleet, want %d (%d gateways × a burst of %d)", served, most*burst, most, burst)
	}
	var unregistered uint64
	for _, g := range gws {
		unregistered += g.Stats().LookupsUnregistered
	}
	if want := uint64(burst * (len(gws) - most)); unregistered != want { // then their lookup rate refuses
		t.Errorf("lookups refused as unregistered: %d, want %d", unregistered, want)
	}
}

// TestFleetBridgeAtThreeGateways: a legitimate bridge configured with
// the 3 gateways of a fleet registers at all of them (the default lets a
// key use 3), is found through every one, and is reached after one closes.
func TestFleetBridgeAtThreeGateways(t *testing.T) {
	_, gws := startFleet(t, 3, gateway.Limits{})
	var all []connector.Target
	for _, g := range gws {
		all = append(all, natpunchtest.Target(g))
	}
	b, clb := startBridgeServing(t, ClientConfig{Gateways: all}, natpunchtest.Echo())
	a, cla := startBridgeServing(t, ClientConfig{Gateways: all}, natpunchtest.Echo())
	for i, gw := range clb.gateways {
		if !gw.usable() {
			t.Fatalf("gateway %d of 3 is not usable by the bridge", i)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for i, g := range gws {
		if info, err := lookupAt(ctx, cla, g, b.NodeID()); err != nil || info.Home != "" {
			t.Fatalf("lookup of b at gateway %d: %+v %v, want its own record", i, info, err)
		}
	}
	if err := gws[0].Close(); err != nil {
		t.Fatal(err)
	}
	r, err := a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: b.NodeID()}, Type: "echo", Payload: []byte("hi")})
	if err != nil || string(r.Payload) != "hi" {
		t.Fatalf("a to b after the first gateway closed: %v %+v", err, r)
	}
}

// TestFleetBridgeOverCap: a bridge configured with 3 gateways of a fleet
// that lets a key use 2 is held at 2; the third answers held-elsewhere,
// which the bridge neither takes for a dead gateway nor uses for routes.
// It is found through all 3, and once one of its 2 closes, the third
// takes its registration at the next refresh.
func TestFleetBridgeOverCap(t *testing.T) {
	_, gws := startFleet(t, 3, gateway.Limits{MaxGatewaysPerKey: 2})
	var all []connector.Target
	for _, g := range gws {
		all = append(all, natpunchtest.Target(g))
	}
	var mu sync.Mutex
	steps := map[string]int{}
	trace := func(e Event) {
		mu.Lock()
		steps[e.Step]++
		mu.Unlock()
	}
	b, clb := startBridgeServing(t, ClientConfig{Gateways: all, RegisterEvery: 200 * time.Millisecond, Trace: trace}, natpunchtest.Echo())
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if !natpunchtest.WaitUntil(ctx, func() bool { return holding(gws) == 2 }) {
		t.Fatalf("%d gateways hold the bridge, want 2", holding(gws))
	}
	held := -1
	for i, gw := range clb.gateways {
		if gw.health.held.Load() {
			held = i
		}
		if !gw.up() {
			t.Errorf("gateway %d marked down", i)
		}
	}
	if held < 0 || gws[held].Stats().Registrations != 0 {
		t.Fatalf("no gateway refused the bridge as held elsewhere (held at %d)", held)
	}
	for i, g := range gws {
		_, asker := startBridgeServing(t, at(g), natpunchtest.Echo())
		if _, err := lookupAt(ctx, asker, g, b.NodeID()); err != nil {
			t.Fatalf("lookup of b through gateway %d: %v", i, err)
		}
	}
	holder := (held + 1) % len(gws)
	if err := gws[holder].Close(); err != nil {
		t.Fatal(err)
	}
	if !natpunchtest.WaitUntil(ctx, clb.gateways[held].usable) {
		t.Fatalf("the gateway that refused the bridge did not take it after a holder closed")
	}
	mu.Lock()
	defer mu.Unlock()
	if steps["gateway-held-elsewhere"] != 1 || steps["gateway-registered"] != 1 {
		t.Errorf("trace steps %v, want one held-elsewhere and one registered", steps)
	}
}

// TestFleetAdmitsWithoutNATS: a gateway that has lost its fleet's NATS
// admits a new bridge without counting its holders (failing open, as a
// gateway on its own would), and serves it.
func TestFleetAdmitsWithoutNATS(t *testing.T) {
	ns, gws := startFleet(t, 1, gateway.Limits{MaxGatewaysPerKey: 1})
	g := gws[0]
	ns.Shutdown()
	ns.WaitForShutdown()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if !natpunchtest.WaitUntil(ctx, func() bool { return g.FleetErr() != nil }) {
		t.Fatal("the gateway does not report the lost NATS")
	}
	a, _ := startBridgeServing(t, at(g), natpunchtest.Echo())
	b, _ := startBridgeServing(t, at(g), natpunchtest.Echo())
	r, err := a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: b.NodeID()}, Type: "echo", Payload: []byte("no nats")})
	if err != nil || string(r.Payload) != "no nats" {
		t.Fatalf("a to b at a gateway without NATS: %v %+v", err, r)
	}
	if s := g.Stats(); s.Registrations != 2 || s.RegistrationsHeldElsewhere != 0 {
		t.Fatalf("stats %+v, want 2 registrations, none refused", s)
	}
}

// startCluster runs two nats-servers routed into one cluster and waits
// until the route is up. restartA shuts the first down and starts it
// again on the same ports.
func startCluster(t *testing.T) (a, b *server.Server, restartA func() *server.Server) {
	t.Helper()
	run := func(port, clusterPort int, routes string) *server.Server {
		opts := &server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "fleet", Host: "127.0.0.1", Port: clusterPort}}
		if routes != "" {
			opts.Routes = server.RoutesFromStr(routes)
		}
		ns, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats-server not ready")
		}
		t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
		return ns
	}
	routed := func(a, b *server.Server) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if !natpunchtest.WaitUntil(ctx, func() bool { return a.NumRoutes() > 0 && b.NumRoutes() > 0 }) {
			t.Fatal("the cluster's route did not come up")
		}
	}
	a = run(-1, -1, "")
	b = run(-1, -1, fmt.Sprintf("nats://127.0.0.1:%d", a.ClusterAddr().Port))
	routed(a, b)
	port, clusterPort := a.Addr().(*net.TCPAddr).Port, a.ClusterAddr().Port
	restartA = func() *server.Server {
		a.Shutdown()
		a.WaitForShutdown()
		a = run(port, clusterPort, "")
		routed(a, b)
		return a
	}
	return a, b, restartA
}

// TestFleetClusterRaceSettles: on a NATS cluster, where interest crosses
// the route after a count may have gone out, a key that registers at all
// 4 gateways at once (2 on each server) may be held at more than
// MaxGatewaysPerKey (2) of them for a moment (on loopback the route
// carries interest before any count, so it is not); the refresh that
// follows leaves it held at exactly 2.
func TestFleetClusterRaceSettles(t *testing.T) {
	const most = 2
	a, b, _ := startCluster(t)
	l := gateway.Limits{MaxGatewaysPerKey: most}
	gws := []*gateway.Gateway{startFleetGatewayWith(t, a, l), startFleetGatewayWith(t, b, l), startFleetGatewayWith(t, a, l), startFleetGatewayWith(t, b, l)}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for range 3 {
		key := connectortest.Start(t, connector.Config{}, nil)
		countHeldElsewhere(t, registerEverywhere(ctx, key, gws))
		first := holding(gws)
		refused := countHeldElsewhere(t, registerEverywhere(ctx, key, gws))
		if held := holding(gws); held != most || refused != len(gws)-most {
			t.Fatalf("after a refresh %d gateways hold the key and %d refused it, want %d and %d", held, refused, most, len(gws)-most)
		}
		t.Logf("held at %d gateways at first, at %d after a refresh", first, most)
		key.Close()
		if !natpunchtest.WaitUntil(ctx, func() bool { return holding(gws) == 0 }) {
			t.Fatal("the key's registrations outlived its connections")
		}
	}
}

// TestFleetRejoinSettles: G1 loses its NATS (its server of a two-server
// cluster goes down) and admits a key uncounted, while G2, on the other
// server, admits it too: with one gateway per key allowed, two hold it.
// Once G1 is back, the key's next refresh settles it: G1's holding, made
// out of the fleet's sight, ranks as new, and G1 lets it go to G2.
func TestFleetRejoinSettles(t *testing.T) {
	a, b, restartA := startCluster(t)
	l := gateway.Limits{MaxGatewaysPerKey: 1}
	// G1 stays with its own server: it does not fail over to the other.
	g1, _ := startFleetGatewayKill(t, a, gateway.Config{Listen: []string{"127.0.0.1:0", "127.0.0.1:0"}, Limits: l}, nats.IgnoreDiscoveredServers())
	g2 := startFleetGatewayWith(t, b, l)
	gws := []*gateway.Gateway{g1, g2}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	a.Shutdown()
	a.WaitForShutdown()
	if !natpunchtest.WaitUntil(ctx, func() bool { return g1.FleetErr() != nil }) {
		t.Fatal("G1 does not report its lost NATS")
	}
	key := connectortest.Start(t, connector.Config{}, nil)
	if refused := countHeldElsewhere(t, registerEverywhere(ctx, key, gws)); refused != 0 || holding(gws) != 2 {
		t.Fatalf("with G1 out of the fleet: %d refused, %d holding; want both to hold the key", refused, holding(gws))
	}
	a = restartA()
	if !natpunchtest.WaitUntil(ctx, func() bool { return g1.FleetErr() == nil }) {
		t.Fatal("G1 did not get its NATS back")
	}
	// The key's next refresh comes 30 s later, by when each server knows
	// the other's interest again; here it comes once they do.
	for _, ns := range []*server.Server{a, b} {
		if !natpunchtest.WaitUntil(ctx, func() bool { return holdersSeenFrom(ctx, t, ns, key.NodeID()) == 2 }) {
			t.Fatal("the cluster's servers do not see both holders")
		}
	}
	errs := registerEverywhere(ctx, key, gws)
	var re *connector.RemoteError
	if errs[1] != nil || !errors.As(errs[0], &re) || re.Code != wire.CodeNotHeld || holding(gws) != 1 {
		t.Fatalf("the refresh after G1 came back: %v, %d holding; want G1 to let the key go to G2", errs, holding(gws))
	}
	if n := g1.Stats().RegistrationsHeldElsewhere; n != 1 {
		t.Errorf("G1 counted %d registrations held elsewhere, want 1", n)
	}
}

// holdersSeenFrom counts the gateways that answer a count of id's holders
// asked through ns.
func holdersSeenFrom(ctx context.Context, t *testing.T, ns *server.Server, id identity.NodeID) int {
	nc, err := nats.Connect(ns.ClientURL(), fleet.ConnOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	f := fleet.New(nc, fleet.Config{GatherStall: 200 * time.Millisecond}, nil)
	defer f.Close()
	payload, _ := wire.Encode(&wire.FleetAsk{From: string(id)})
	n := 0
	f.AskAll(ctx, id, wire.FleetHolders, payload, func([]byte) bool { n++; return true })
	return n
}
