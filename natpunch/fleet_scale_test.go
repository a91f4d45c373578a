package natpunch

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// envFleetScale names how many keys TestFleetScale registers; it runs only
// when set (10000 for issue 21's figures), as a measurement, not in CI.
const envFleetScale = "PEERBRIDGE_FLEET_SCALE"

// TestFleetScale is issue 21, item 4: a fleet of 3 gateways on one NATS
// and N bare keys, each registered at one gateway from one of 50 loopback
// addresses. It reports register and lookup latency (at the key's own
// gateway and through another), the heap and NATS subscriptions per
// registration, and, with 50 bridges registered at two gateways, how long
// after one gateway dies every bridge is found through the others.
//
//	PEERBRIDGE_FLEET_SCALE=10000 go test -count=1 -run '^TestFleetScale$' -v ./natpunch/
func TestFleetScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(envFleetScale))
	if n <= 0 {
		t.Skipf("natpunch: %s not set: the fleet scale measurement runs only on demand", envFleetScale)
	}
	ns := natpunchtest.StartNATS(t)
	unlimited := gateway.Limits{MaxRegistrationsPerIP: n, Registrations: ratelimit.Unlimited, Lookups: ratelimit.Unlimited, Requests: ratelimit.Unlimited}
	var gws []*gateway.Gateway
	var kills []func()
	for range 3 {
		g, kill := startScaleGateway(t, ns, n, unlimited)
		gws, kills = append(gws, g), append(kills, kill)
	}
	keys := make([]*connector.Connector, n)
	home := make([]int, n)
	for i := range n {
		keys[i], home[i] = connectorOn(t, netip.AddrFrom4([4]byte{127, 0, 1, byte(1 + i%50)})), i%len(gws)
	}
	runtime.GC()
	baseHeap, baseSubs := heapBytes(), ns.NumSubscriptions()
	register := make([]time.Duration, n)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	payload, _ := wire.Encode(&wire.Registration{Mapping: wire.MappingIndependent, Filtering: wire.FilteringIndependent})
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range n {
		c := keys[i]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			start := time.Now()
			if _, err := c.Request(ctx, connector.Outbound{Target: natpunchtest.Target(gws[home[i]]), Type: wire.TypeRegister, Payload: payload}); err != nil {
				t.Errorf("registering key %d: %v", i, err)
			}
			register[i] = time.Since(start)
		})
	}
	wg.Wait()
	runtime.GC()
	heap, subs := heapBytes(), ns.NumSubscriptions()

	// In a fleet a gateway serves lookups only to keys registered there:
	// the asker registers (again: its first connection may have idled out
	// since) at every gateway, one after another, each counting the
	// gateways that hold it already.
	for g := range gws {
		start := time.Now()
		if _, err := keys[0].Request(ctx, connector.Outbound{Target: natpunchtest.Target(gws[g]), Type: wire.TypeRegister, Payload: payload}); err != nil {
			t.Fatalf("registering the asker at gateway %d: %v", g, err)
		}
		t.Logf("the asker registered at gateway %d in %v", g, time.Since(start).Round(time.Microsecond))
	}
	own, other := lookups(ctx, t, keys, home, gws, 2000)
	t.Logf("%d keys at 3 gateways: register p50 %v p99 %v; lookup at the key's own gateway p50 %v p99 %v, through another p50 %v p99 %v",
		n, pct(register, 50), pct(register, 99), pct(own, 50), pct(own, 99), pct(other, 50), pct(other, 99))
	t.Logf("per registration (the gateway's record, its NATS subscription, and the QUIC connection's state at both ends, all in one process): heap %.1f KiB; NATS subscriptions %d for %d registrations",
		float64(heap-baseHeap)/float64(n)/1024, subs-baseSubs, n)

	// Bridges registered at gateways 2 and 0; gateway 2 dies.
	var bridges []*connector.Connector
	for range 50 {
		c, _ := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(gws[2]), natpunchtest.Target(gws[0])}}, natpunchtest.Echo())
		bridges = append(bridges, c)
	}
	asker := keys[0]
	died := time.Now()
	kills[2]() // the gateway and its NATS connection, as when its process dies
	for _, b := range bridges {
		for {
			if _, err := lookupAt(ctx, &Client{c: asker}, gws[1], b.NodeID()); err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("bridge %s never found after its gateway died", b.NodeID().Short())
			}
			time.Sleep(10 * time.Millisecond) // polling the fleet, bounded by ctx
		}
	}
	t.Logf("one gateway died: all 50 bridges registered at it and another were found through the third within %v", time.Since(died).Round(time.Millisecond))
}

// startScaleGateway runs a gateway for n keys in the fleet on ns's NATS,
// with its kill.
func startScaleGateway(t *testing.T, ns *server.Server, n int, l gateway.Limits) (*gateway.Gateway, func()) {
	t.Helper()
	return startFleetGatewayKill(t, ns, gateway.Config{Listen: []string{"127.0.0.1:0"}, Limits: l, Conn: connector.Config{MaxConns: n + 100, MaxConnsPerIP: n}})
}

// connectorOn starts a bare key's connector on ip.
func connectorOn(t *testing.T, ip netip.Addr) *connector.Connector {
	t.Helper()
	id := natpunchtest.Identity(t)
	c, err := connector.New(connector.Config{ListenAddr: netip.AddrPortFrom(ip, 0).String()}, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// lookups asks m random keys' records, each at its own gateway and at
// another, from the first key (registered at every gateway), and returns
// the latencies of both.
func lookups(ctx context.Context, t *testing.T, keys []*connector.Connector, home []int, gws []*gateway.Gateway, m int) (own, other []time.Duration) {
	asker := &Client{c: keys[0]}
	for range m {
		i := rand.IntN(len(keys))
		for _, g := range []int{home[i], (home[i] + 1) % len(gws)} {
			start := time.Now()
			if _, err := lookupAt(ctx, asker, gws[g], keys[i].NodeID()); err != nil {
				t.Errorf("lookup of key %d at gateway %d: %v", i, g, err)
			}
			if g == home[i] {
				own = append(own, time.Since(start))
			} else {
				other = append(other, time.Since(start))
			}
		}
	}
	return own, other
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, len(s)*p/100)].Round(time.Microsecond)
}

func heapBytes() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
