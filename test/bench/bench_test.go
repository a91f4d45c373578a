package bench_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/test/bench"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// tiny are options small enough for a test run under the race detector.
func tiny(setups ...bench.SetupFunc) bench.Options {
	return bench.Options{
		Setups:       setups,
		Quick:        true,
		Warmup:       5,
		Requests:     50,
		Messages:     300,
		MessageBytes: 1 << 20, // 16 messages of 64 KiB
		StallTimeout: 10 * time.Second,
	}
}

// testContext is a context that ends with the test, bounded well below
// the package's time budget.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRunNATSAndLeaf(t *testing.T) {
	var out, progress bytes.Buffer
	rep, err := bench.Run(testContext(t), tiny(), &out, &progress)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := setupNames(rep); got != "nats,leaf" {
		t.Fatalf("setups = %s, want nats,leaf", got)
	}
	for _, s := range rep.Setups {
		checkLatency(t, s)
		checkThroughput(t, s, []int64{300, 300, 16})
	}
	if v, ok := rep.RRP50Ratio("nats"); !ok || v <= 0 {
		t.Errorf("RRP50Ratio(nats) = %v, %v; want a positive ratio", v, ok)
	}
	if _, ok := rep.RRP50Ratio("leaf"); ok {
		t.Error("RRP50Ratio(leaf) is set although leaf is the target")
	}
	for _, want := range []string{"scenario", "leaf/nats", "rr 128b p50 (us)", "rr 16k p99 (us)", "send 64k (msg/s)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(progress.String(), "leaf: send 128b") {
		t.Errorf("progress lacks the leaf send step:\n%s", progress.String())
	}
	obj := reportJSON(t, rep)
	checkPerSetup(t, obj, "rr_p50_us", "nats", "leaf")
	checkPerSetup(t, obj, "throughput_msgs_per_s", "nats", "leaf")
	for _, k := range []string{"rr_p50_ratio_vs_leaf", "throughput_ratio_vs_leaf"} {
		if v, ok := obj[k]; !ok || v != nil {
			t.Errorf("%s = %v (present %v), want null", k, v, ok)
		}
	}
	for _, k := range []string{"rr_p50_ratio_vs_nats", "throughput_ratio_vs_nats"} {
		if v, ok := obj[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive number", k, obj[k])
		}
	}
}

func TestRunTargetWithExtras(t *testing.T) {
	var made []*relaySetup
	opts := tiny(bench.NewLeafSetup, relaySetups(&made))
	opts.LatencySizes, opts.ThroughputSizes = []int{128}, []int{128}
	opts.JSON = true
	var steps []string
	opts.Extras = []bench.Extra{func(ctx context.Context, progress func(string)) (map[string]float64, error) {
		progress("measuring")
		steps = append(steps, "ran")
		return map[string]float64{"pooled_vs_fresh_ratio": 0.5, "bytes_per_idle_peer": 2048}, nil
	}}
	var out bytes.Buffer
	rep, err := bench.Run(testContext(t), opts, &out, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(made) != 1 || made[0].missingHeader.Load() != 0 || made[0].relayed.Load() == 0 {
		t.Fatalf("relay: made %d, relayed %d, without Peer-Node %d", len(made),
			made[0].relayed.Load(), made[0].missingHeader.Load())
	}
	if len(steps) != 1 {
		t.Fatalf("extra ran %d times", len(steps))
	}
	for _, s := range rep.Setups {
		checkLatency(t, s)
		checkThroughput(t, s, []int64{300})
	}
	var obj map[string]any
	if err := json.Unmarshal(out.Bytes(), &obj); err != nil {
		t.Fatalf("Run wrote invalid JSON: %v\n%s", err, out.String())
	}
	checkPerSetup(t, obj, "rr_p50_us", "leaf", "peerbridge")
	for _, k := range []string{"rr_p50_ratio_vs_leaf", "throughput_ratio_vs_leaf", "pooled_vs_fresh_ratio", "bytes_per_idle_peer"} {
		if v, ok := obj[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive number", k, obj[k])
		}
	}
	if obj["ratio_target"] != "peerbridge" {
		t.Errorf("ratio_target = %v, want peerbridge", obj["ratio_target"])
	}
}

func TestRunRejectsExtraShadowingAFigure(t *testing.T) {
	opts := tiny(bench.NewNATSSetup)
	opts.LatencySizes, opts.ThroughputSizes = []int{128}, []int{128}
	opts.Extras = []bench.Extra{func(context.Context, func(string)) (map[string]float64, error) {
		return map[string]float64{"rr_p50_us": 1}, nil
	}}
	if _, err := bench.Run(testContext(t), opts, nil, nil); err == nil || !strings.HasPrefix(err.Error(), "bench: ") {
		t.Fatalf("Run = %v, want a bench: error", err)
	}
}

func TestLeafSetupCrossesServers(t *testing.T) {
	s, err := bench.NewLeafSetup(testContext(t))
	if err != nil {
		t.Fatalf("NewLeafSetup: %v", err)
	}
	defer s.Close()
	a, b := s.Requester().ConnectedServerId(), s.Responder().ConnectedServerId()
	if a == "" || a == b {
		t.Fatalf("requester on server %q, responder on %q: want two servers", a, b)
	}
	n, err := bench.NewNATSSetup(testContext(t))
	if err != nil {
		t.Fatalf("NewNATSSetup: %v", err)
	}
	defer n.Close()
	if a, b := n.Requester().ConnectedServerId(), n.Responder().ConnectedServerId(); a != b {
		t.Fatalf("nats setup: requester on %q, responder on %q: want one server", a, b)
	}
}

// setupNames lists the report's setups, comma separated.
func setupNames(rep *bench.Report) string {
	var names []string
	for _, s := range rep.Setups {
		names = append(names, s.Name)
	}
	return strings.Join(names, ",")
}

// checkLatency checks s's latency figures are positive and ordered.
func checkLatency(t *testing.T, s bench.SetupResult) {
	t.Helper()
	for _, l := range s.Latency {
		if l.Count <= 0 || l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max {
			t.Errorf("%s %d B latency not positive and ordered: %+v", s.Name, l.Size, l)
		}
	}
}

// checkThroughput checks s sent the expected counts, lost nothing and
// measured positive rates.
func checkThroughput(t *testing.T, s bench.SetupResult, sent []int64) {
	t.Helper()
	if len(s.Throughput) != len(sent) {
		t.Fatalf("%s: %d throughput results, want %d", s.Name, len(s.Throughput), len(sent))
	}
	for i, tp := range s.Throughput {
		if tp.Sent != sent[i] || tp.Received != tp.Sent || tp.Lost != 0 || tp.Dropped != 0 || tp.Stalled {
			t.Errorf("%s %d B: sent %d (want %d), received %d, lost %d, dropped %d, stalled %v",
				s.Name, tp.Size, tp.Sent, sent[i], tp.Received, tp.Lost, tp.Dropped, tp.Stalled)
		}
		if tp.MsgsPerSec <= 0 || tp.MBPerSec <= 0 {
			t.Errorf("%s %d B: rates %v msg/s, %v MB/s, want positive", s.Name, tp.Size, tp.MsgsPerSec, tp.MBPerSec)
		}
	}
}

// reportJSON round-trips the report through WriteJSON.
func reportJSON(t *testing.T, rep *bench.Report) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	var obj map[string]any
	if err := json.Unmarshal(buf.Bytes(), &obj); err != nil {
		t.Fatalf("WriteJSON wrote invalid JSON: %v\n%s", err, buf.String())
	}
	return obj
}

// checkPerSetup checks obj[key] is an object with a positive number for
// every name.
func checkPerSetup(t *testing.T, obj map[string]any, key string, names ...string) {
	t.Helper()
	m, ok := obj[key].(map[string]any)
	if !ok {
		t.Fatalf("%s = %v, want an object keyed by setup", key, obj[key])
	}
	for _, n := range names {
		if v, ok := m[n].(float64); !ok || v <= 0 {
			t.Errorf("%s[%s] = %v, want a positive number", key, n, m[n])
		}
	}
}

// TestRunPeerbridge runs setup (c) against the leaf node, with its extras
// on small counts, and checks every figure the issue names is there.
func TestRunPeerbridge(t *testing.T) {
	opts := tiny(bench.NewLeafSetup, bench.NewPeerbridgeSetup)
	opts.Extras = bench.PeerbridgeExtras(bench.ExtraOptions{
		Quick:       true,
		PooledSends: 50,
		FreshSends:  3,
		FanoutPeers: 3,
		FanoutSends: 20,
		IdlePeers:   20,
		IdleSettle:  50 * time.Millisecond,
	})
	var progress bytes.Buffer
	rep, err := bench.Run(testContext(t), opts, nil, &progress)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, progress.String())
	}
	for _, s := range rep.Setups {
		checkLatency(t, s)
		checkThroughput(t, s, []int64{300, 300, 16})
	}
	obj := reportJSON(t, rep)
	checkPerSetup(t, obj, "rr_p50_us", "leaf", "peerbridge")
	for _, k := range []string{
		"rr_p50_ratio_vs_leaf", "throughput_ratio_vs_leaf", "pooled_vs_fresh_ratio",
		"fanout3_ratio", "fanout1_p50_us", "send_pooled_p50_us", "send_fresh_p50_us",
		"idle_peers", "idle_peers_in_process", "hol_p99_ratio", "hol_p99_us", "hol_sends",
	} {
		if v, ok := obj[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive number", k, obj[k])
		}
	}
	// Memory deltas may be negative on a tiny run; they must be there.
	for _, k := range []string{"bytes_per_idle_peer", "idle_peer_heap_bytes", "idle_peer_stack_bytes"} {
		if _, ok := obj[k].(float64); !ok {
			t.Errorf("%s = %v, want a number", k, obj[k])
		}
	}
}

// TestPeerbridgeSetupCrossesBridges: the requester and responder of setup
// (c) sit on different servers, and a request crosses with one Peer-Node
// header.
func TestPeerbridgeSetupCrossesBridges(t *testing.T) {
	s, err := bench.NewPeerbridgeSetup(testContext(t))
	if err != nil {
		t.Fatalf("NewPeerbridgeSetup: %v", err)
	}
	defer s.Close()
	if a, b := s.Requester().ConnectedServerId(), s.Responder().ConnectedServerId(); a == "" || a == b {
		t.Fatalf("requester on server %q, responder on %q: want two servers", a, b)
	}
	if got := s.Headers().Values("Peer-Node"); len(got) != 1 {
		t.Fatalf("Peer-Node headers %q, want one", got)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestServeIdlePeers: the peer process's body prints a target per peer and
// the ready line, and returns once its input ends.
func TestServeIdlePeers(t *testing.T) {
	const n = 3
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	errc := make(chan error, 1)
	go func() { errc <- bench.ServeIdlePeers(testContext(t), n, inR, outW) }()
	sc := bufio.NewScanner(outR)
	var lines []string
	for sc.Scan() && sc.Text() != "ready" {
		lines = append(lines, sc.Text())
	}
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	inW.Close()
	if err := <-errc; err != nil {
		t.Fatalf("ServeIdlePeers: %v", err)
	}
	outW.Close()
	if len(lines) != n {
		t.Fatalf("targets %q, want %d", lines, n)
	}
	for _, l := range lines {
		if _, err := connector.ParseTarget(l); err != nil || !strings.Contains(l, "@127.0.0.1:") {
			t.Errorf("target %q: %v", l, err)
		}
	}
}
