package wan_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/test/natlab"
	"github.com/peerbridge/peerbridge/test/wan"
)

// gatewayPort is the gateway's UDP port on each of its addresses.
const gatewayPort = 7443

// gatewayInfo is what the gateway helper prints when it is up.
type gatewayInfo struct {
	Target string `json:"target"`
}

// relayStats is what the gateway helper prints when it stops.
type relayStats struct {
	Sessions  int    `json:"sessions"`
	Forwarded uint64 `json:"forwarded"`
	Dropped   uint64 `json:"dropped"`
}

// playGateway runs a gateway on every address of its host, prints its
// target and, once stdin closes, its relay counters.
func playGateway(t *testing.T, addr netip.Addr) {
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	var listen []string
	for a := range strings.SplitSeq(os.Getenv(envAddrs), ",") {
		listen = append(listen, net.JoinHostPort(a, strconv.Itoa(gatewayPort)))
	}
	g, err := gateway.New(gateway.Config{Listen: listen}, id, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := g.Close(); err != nil {
			t.Error(err)
		}
	}()
	info := gatewayInfo{Target: id.NodeID().String() + "@" + netip.AddrPortFrom(addr, gatewayPort).String()}
	printLine(t, lineGateway, info)
	awaitStdinClosed()
	sessions, forwarded, dropped := g.RelayStats()
	printLine(t, lineRelay, relayStats{Sessions: sessions, Forwarded: forwarded, Dropped: dropped})
}

// TestWANRelay measures the bridges through the gateway's relay against a
// direct path on the same wire (40 ms RTT per direct round trip, no loss),
// and the gateway's CPU per relayed packet. Both bridges sit behind
// symmetric NATs, which admit no direct path, and skip the hole punch. It
// reports figures only; it runs with PEERBRIDGE_WAN_VARIANTS=1 and
// without -race.
func TestWANRelay(t *testing.T) {
	if raceEnabled {
		t.Skip("figures only: run without -race")
	}
	if os.Getenv(envVariants) != "1" {
		t.Skipf("a study, not a check: set %s=1 to run it", envVariants)
	}
	o := testOptions(t)
	o.Systems = []string{wan.SystemBridge}
	var direct, relayed wan.Result
	t.Run("direct", func(t *testing.T) {
		direct = runScenario(t, scenario{Name: "direct, 0% loss"}, o).Result
	})
	t.Run("relayed", func(t *testing.T) {
		relayed = runRelayed(t, o)
	})
	if len(direct.Systems) == 1 && len(relayed.Systems) == 1 {
		d, r := direct.Systems[0], relayed.Systems[0]
		t.Logf("relayed/direct: f&f %.2f, rr/s %.2f, p99 %.2f",
			r.Blast.PerSec/d.Blast.PerSec, r.Requests.PerSec/d.Requests.PerSec, r.Requests.P99/d.Requests.P99)
	}
}

// runRelayed runs the bridge-only scenario between two hosts behind
// symmetric NATs, through a gateway on the public segment.
func runRelayed(t *testing.T, o wan.Options) wan.Result {
	w := natlab.Wire{Delay: linkDelay}
	lab := natlab.New(t, natlab.WithWire(w))
	g := lab.AddPublicHost("g", 2)
	a := lab.AddNAT("na", natlab.Symmetric).AddHost("a")
	b := lab.AddNAT("nb", natlab.Symmetric).AddHost("b")
	ctx, cancel := context.WithTimeout(t.Context(), sidesTimeout)
	defer cancel()
	var addrs []string
	for _, a := range g.Addrs() {
		addrs = append(addrs, a.String())
	}
	gw := startHelper(t, g, roleGateway, envAddrs+"="+strings.Join(addrs, ","), wan.EnvOptions+"={}")
	var info gatewayInfo
	if err := gw.Await(ctx, lineGateway, &info); err != nil {
		t.Fatal(err)
	}
	o.Gateway, o.Relay = info.Target, true
	cpu0 := processCPU(t, gw.Pid())
	r, hub := runSides(t, a, b, o)
	cpu := processCPU(t, gw.Pid()) - cpu0
	if err := hub.Stop(); err != nil {
		t.Fatal(err)
	}
	var hubRelay wan.RelayCounts
	if err := hub.Await(ctx, wan.LineHubStop, &hubRelay); err != nil {
		t.Fatal(err)
	}
	if err := gw.Stop(); err != nil {
		t.Fatal(err)
	}
	var st relayStats
	if err := gw.Await(ctx, lineRelay, &st); err != nil {
		t.Fatal(err)
	}
	check(t, r, o)
	logResult(t, r, fmt.Sprintf("relayed through the gateway, wire %s per link, TCP %s", w, orDefault(o.TCPCongestion)), lab.WireStats())
	perPacket := time.Duration(0)
	if st.Forwarded > 0 {
		perPacket = cpu / time.Duration(st.Forwarded)
	}
	t.Logf("gateway: %d relay session(s), %d packets forwarded, %d dropped, %v CPU: %v per relayed packet",
		st.Sessions, st.Forwarded, st.Dropped, cpu, perPacket)
	if r.Relay != nil {
		t.Logf("bridge A took in %d relayed packets and dropped %d; bridge B took in %d and dropped %d (a full queue drops, as UDP would)",
			r.Relay.Delivered, r.Relay.Dropped, hubRelay.Delivered, hubRelay.Dropped)
	}
	return r
}

// clockTick is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on
// every Linux this runs on).
const clockTick = 10 * time.Millisecond

// processCPU is the user and system CPU time process pid has used.
func processCPU(t *testing.T, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which ends at the last ')': state is
	// the first, utime the 12th and stime the 13th.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		t.Fatalf("/proc/%d/stat: too few fields", pid)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("/proc/%d/stat: %v", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick
}

// printLine prints prefix and v as JSON on a line of its own.
func printLine(t *testing.T, prefix string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("\n%s%s\n", prefix, b)
}
