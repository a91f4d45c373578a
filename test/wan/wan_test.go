package wan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/test/natlab"
	"github.com/peerbridge/peerbridge/test/wan"
)

// envJSON names a file the figures are written to as JSON; envVariants,
// set to 1, adds the leaf-only variants (TCP BBR, S2 compression) to the
// scenarios.
// envDuration, a Go duration, sets how long each load runs per system, for
// steadier figures than the default's.
const (
	envJSON     = "PEERBRIDGE_WAN_JSON"
	envVariants = "PEERBRIDGE_WAN_VARIANTS"
	envDuration = "PEERBRIDGE_WAN_DURATION"
)

// raceWindow is the fire-and-forget window under -race, small so that
// draining it on the lossy wire takes little time.
const raceWindow = 4000

// linkDelay is each wired link's one-way delay. A path from one public
// host to the other crosses two links each way: 40 ms of RTT.
const linkDelay = 10 * time.Millisecond

// scenario is one wire and one configuration of the sides.
type scenario struct {
	Name string `json:"name"`
	// LinkLoss is the per cent lost on each link; a path crosses two, so
	// about twice this is lost each way.
	LinkLoss float64 `json:"link_loss_percent"`
	// Tweak changes the options for this scenario, if set.
	Tweak func(*wan.Options) `json:"-"`
}

// figures is one scenario's result as the JSON file holds it.
type figures struct {
	Scenario scenario    `json:"scenario"`
	Wire     string      `json:"wire"`
	Result   wan.Result  `json:"result"`
	Ratios   wan.Ratios  `json:"ratios"`
	WireStat wireFigures `json:"wire_stats"`
}

// wireFigures are the lab's wire counters.
type wireFigures struct {
	Forwarded, Lost, Overflow uint64
}

// baseline is how both sides run unless a scenario says otherwise: an
// uncompressed leaf link over TCP with loss-based congestion control, as
// most hosts run it (wan.LossBasedCongestion).
func baseline(t *testing.T, o *wan.Options) {
	o.LeafCompression = "off"
	o.TCPCongestion = wan.LossBasedCongestion()
	if o.TCPCongestion == "" {
		t.Log("TCP congestion control left as the namespaces inherit it: neither cubic nor reno may be chosen")
	}
}

// scenarios are issue 14's wire at 1% loss each way, and the same without
// loss for reference.
var scenarios = []scenario{
	{Name: "0% loss", LinkLoss: 0},
	{Name: "1% loss", LinkLoss: 0.5, Tweak: func(o *wan.Options) { o.Burst = burst }},
}

// burst is issue 20's burst across the lossy wire: 30,000 × 128 B published
// without a window, every one of which must arrive, as over a leaf link.
// Under -race a smaller one.
var burst = 30_000

// variants are the leaf link's options on the lossy wire: the sides' TCP
// running BBR, and nats-server's own default, S2 compression chosen by RTT.
var variants = []scenario{
	{Name: "1% loss, leaf over TCP BBR", LinkLoss: 0.5, Tweak: func(o *wan.Options) {
		o.TCPCongestion, o.Systems = "bbr", []string{wan.SystemLeaf}
	}},
	{Name: "1% loss, leaf with S2 compression", LinkLoss: 0.5, Tweak: func(o *wan.Options) {
		o.LeafCompression, o.Systems = "s2_auto", []string{wan.SystemLeaf}
	}},
}

// TestWAN runs the WAN scenario of issue 14: a leaf-node link and two
// bridges across one wire of 40 ms RTT, 16 requesters, 128-byte payloads,
// and reports their figures. It asserts only what cannot flake: every
// request ended in a reply or an error, counts add up, and both systems
// carried traffic.
func TestWAN(t *testing.T) {
	o := testOptions(t)
	list := scenarios
	if os.Getenv(envVariants) == "1" {
		list = append(slices.Clip(list), variants...)
	}
	var all []figures
	for _, sc := range list {
		t.Run(sc.Name, func(t *testing.T) {
			all = append(all, runScenario(t, sc, o))
		})
	}
	writeJSON(t, all)
}

// testOptions are the options every scenario starts from: the baseline,
// envDuration's loads, and short loads under -race.
func testOptions(t *testing.T) wan.Options {
	var o wan.Options
	baseline(t, &o)
	if v := os.Getenv(envDuration); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s: %v", envDuration, err)
		}
		o.RequestDuration, o.BlastDuration = d, d
	}
	if raceEnabled {
		o.RequestDuration, o.BlastDuration, o.Window = time.Second, time.Second, raceWindow
		burst = raceWindow
		t.Log("built with -race: short runs whose figures mean nothing; for figures run go test -count=1 -run '^TestWAN$' ./test/wan/")
	}
	return o
}

// runScenario builds a lab with sc's wire, runs both sides in it and
// checks and reports the result.
func runScenario(t *testing.T, sc scenario, o wan.Options) figures {
	if sc.Tweak != nil {
		sc.Tweak(&o)
	}
	w := natlab.Wire{Delay: linkDelay, Loss: sc.LinkLoss}
	ctx, cancel := context.WithTimeout(t.Context(), sidesTimeout)
	defer cancel()
	lr, err := wan.RunLab(ctx, w, o, t.TempDir(), helperCommand(t))
	if errors.Is(err, natlab.ErrUnsupported) {
		t.Skipf("wan: skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	r, ws := lr.Result, lr.Wire
	check(t, r, o)
	title := fmt.Sprintf("%s, wire %s per link, TCP %s, leaf compression %s", sc.Name, w, orDefault(o.TCPCongestion), o.LeafCompression)
	logResult(t, r, title, ws)
	return figures{Scenario: sc, Wire: w.String(), Result: r, Ratios: r.Ratios(),
		WireStat: wireFigures{Forwarded: ws.Forwarded, Lost: ws.Lost, Overflow: ws.Overflow}}
}

// sidesTimeout bounds starting both sides and measuring.
const sidesTimeout = 2 * time.Minute

// logResult logs r as a table under title, with the lab's wire counters.
func logResult(t *testing.T, r wan.Result, title string, ws natlab.WireStats) {
	t.Helper()
	var table bytes.Buffer
	if err := r.WriteTable(&table, title); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%swire: %d frames forwarded, %d lost, %d dropped on full queues", table.String(), ws.Forwarded, ws.Lost, ws.Overflow)
	for _, s := range r.Systems {
		if b := s.Burst; b != nil {
			t.Logf("%s: burst of %d × %d B: %d arrived in %.1f s (%.0f/s)", s.System, b.Sent, r.Options.Size, b.Received, b.Seconds, b.PerSec)
		}
	}
}

// orDefault names an empty congestion control.
func orDefault(cc string) string {
	if cc == "" {
		return "(inherited)"
	}
	return cc
}

// check asserts what cannot flake: both systems ran, every request ended
// in a reply or an error, messages arrived and no more than were sent.
func check(t *testing.T, r wan.Result, o wan.Options) {
	t.Helper()
	want := len(o.Systems)
	if want == 0 {
		want = 2
	}
	if len(r.Systems) != want {
		t.Fatalf("want results for %d systems, got %d", want, len(r.Systems))
	}
	for _, s := range r.Systems {
		q, b := s.Requests, s.Blast
		if q.OK+q.Errors != q.Sent {
			t.Errorf("%s: %d requests sent, but %d replies and %d errors", s.System, q.Sent, q.OK, q.Errors)
		}
		if q.OK == 0 {
			t.Errorf("%s: no request got a reply (%d errors)", s.System, q.Errors)
		}
		if b.Received == 0 || b.Received > b.Sent {
			t.Errorf("%s: %d messages received of %d sent", s.System, b.Received, b.Sent)
		}
		if o.Burst > 0 && (s.Burst == nil || s.Burst.Sent != int64(o.Burst) || s.Burst.Received != s.Burst.Sent) {
			t.Errorf("%s: a burst of %d messages: %+v; every one must arrive", s.System, o.Burst, s.Burst)
		}
	}
}

// writeJSON writes the figures to the file envJSON names, if set.
func writeJSON(t *testing.T, all []figures) {
	path := os.Getenv(envJSON)
	if path == "" {
		return
	}
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}
