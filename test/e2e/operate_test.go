package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/modules/status"
)

// httpGet fetches url and returns the status code and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: wait, Transport: &http.Transport{DisableKeepAlives: true}}
	r, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r.StatusCode, string(b)
}

// metric returns the value of one series (name and labels exactly as the
// exposition writes them) in a /metrics body, and whether it is there.
func metric(body, series string) (float64, bool) {
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), series+" ")
		if ok {
			v, err := strconv.ParseFloat(rest, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// scrape returns the series of base/metrics, failing the test on any it
// lacks.
func scrape(t *testing.T, base string, series ...string) map[string]float64 {
	t.Helper()
	code, body := httpGet(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	out := make(map[string]float64, len(series))
	for _, s := range series {
		v, ok := metric(body, s)
		if !ok {
			t.Fatalf("/metrics lacks %s:\n%s", s, body)
		}
		out[s] = v
	}
	return out
}

// waitUntil polls cond every few milliseconds until it holds, failing the
// test after wait.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, wait)
		}
		select { // poll interval, bounded by the deadline above
		case <-time.After(20 * time.Millisecond):
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		}
	}
}

// TestBinaryMetricsHealthDiscoveryAndStatus drives two built daemons with
// --http: after a request and a failure, /metrics shows the direct peer and
// the counters; /healthz is 200; the micro service answers PING, INFO and
// peers; 'peerbridge status' prints the table and JSON; the log has a line
// for the connection.
func TestBinaryMetricsHealthDiscoveryAndStatus(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	b := runDaemon(t, bin, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "b.key"), "--nats-listen", "127.0.0.1:0")
	a := runDaemon(t, bin, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "a.key"), "--nats-listen", "127.0.0.1:0",
		"--peer", b.node+"@"+b.quic, "--http", "127.0.0.1:0")
	base := "http://" + a.await(t, "http")["http"]
	ncA, ncB := dial(t, a.nats), dial(t, b.nats)
	echo(t, ncB, "peer.recv.echo")

	if code, body := httpGet(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	mustOK(t, request(t, ncA, "peer.request.echo", nats.Header{bridge.HeaderNode: {b.node}}, []byte("hi")))
	if r := request(t, ncA, "peer.request.echo", nats.Header{bridge.HeaderNode: {identityID(t)}}, nil); errCode(r) != "404" {
		t.Fatalf("request to an unknown node: %q", errCode(r))
	}
	m := scrape(t, base,
		`peerbridge_peers{path="direct"}`, `peerbridge_peers{path="relayed"}`,
		`peerbridge_connections_opened_total{path="direct"}`, `peerbridge_connections_opened_total{path="punched"}`,
		`peerbridge_messages_total{direction="out"}`, `peerbridge_messages_total{direction="in"}`,
		`peerbridge_bytes_total{direction="out",path="direct"}`, `peerbridge_bytes_total{direction="in",path="direct"}`,
		`peerbridge_errors_total{code="404"}`, `peerbridge_request_duration_seconds_count`, `go_goroutines`,
		`peerbridge_outbound_total{result="forwarded"}`, `peerbridge_outbound_total{result="failed"}`, `peerbridge_in_flight`)
	want := map[string]float64{
		`peerbridge_peers{path="direct"}`: 1, `peerbridge_peers{path="relayed"}`: 0,
		`peerbridge_connections_opened_total{path="direct"}`: 1, `peerbridge_connections_opened_total{path="punched"}`: 0,
		`peerbridge_messages_total{direction="out"}`: 1, `peerbridge_messages_total{direction="in"}`: 1,
		`peerbridge_errors_total{code="404"}`: 1, `peerbridge_request_duration_seconds_count`: 2,
		`peerbridge_outbound_total{result="forwarded"}`: 1, `peerbridge_outbound_total{result="failed"}`: 1,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if m[`peerbridge_bytes_total{direction="out",path="direct"}`] < 2 || m[`peerbridge_bytes_total{direction="in",path="direct"}`] < 2 {
		t.Errorf("bytes on the direct path: %v", m)
	}

	// Discovery as nats micro does it, on a's NATS.
	var ping micro.Ping
	getJSON(t, ncA, "$SRV.PING.peerbridge", &ping)
	if ping.Name != "peerbridge" || ping.Metadata["node"] != a.node {
		t.Errorf("PING answer %+v", ping)
	}
	var info micro.Info
	getJSON(t, ncA, "$SRV.INFO.peerbridge", &info)
	if len(info.Endpoints) != 1 || info.Endpoints[0].Name != "peers" {
		t.Fatalf("INFO answer %+v", info)
	}
	var peers []status.Peer
	getJSON(t, ncA, info.Endpoints[0].Subject, &peers)
	if len(peers) != 1 || peers[0].Node != b.node || peers[0].Path != "direct" || peers[0].Endpoint != b.quic ||
		peers[0].BytesIn == 0 || peers[0].BytesOut == 0 || peers[0].RTTMillis <= 0 {
		t.Errorf("peers %+v", peers)
	}
	var stats micro.Stats
	getJSON(t, ncA, "$SRV.STATS.peerbridge", &stats)
	if len(stats.Endpoints) != 1 || stats.Endpoints[0].NumRequests != 1 {
		t.Errorf("STATS answer %+v", stats)
	}

	// peerbridge status, as a person and as JSON.
	out, err := exec.Command(bin, "status", "--nats-url", a.nats).Output()
	if err != nil {
		t.Fatalf("peerbridge status: %v", err)
	}
	for _, w := range []string{"bridge " + a.node, b.node, "direct", b.quic, "PATH"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("status output lacks %q:\n%s", w, out)
		}
	}
	out, err = exec.Command(bin, "status", "--nats-url", a.nats, "--json").Output()
	if err != nil {
		t.Fatalf("peerbridge status --json: %v", err)
	}
	var bridges []status.Bridge
	if err := json.Unmarshal(out, &bridges); err != nil || len(bridges) != 1 || bridges[0].Node != a.node ||
		len(bridges[0].Peers) != 1 || bridges[0].Peers[0].Node != b.node {
		t.Errorf("status --json: %v\n%s", err, out)
	}

	a.terminate(t)
	b.terminate(t)
	log := a.stderr.String()
	if !hasLine(log, `msg="peer connection opened"`, "node="+b.node, "path=direct", "remote="+b.quic) ||
		!hasLine(log, `msg="peer connection closed"`, "node="+b.node, "path=direct", "reason=shutdown") ||
		!hasLine(log, "level=WARN", `msg="outbound failed with 404"`) {
		t.Errorf("a's log lacks the connection's lines:\n%s", log)
	}
}

// hasLine reports whether a line of log contains every one of parts.
func hasLine(log string, parts ...string) bool {
	for line := range strings.Lines(log) {
		n := 0
		for _, p := range parts {
			if strings.Contains(line, p) {
				n++
			}
		}
		if n == len(parts) {
			return true
		}
	}
	return false
}

// getJSON requests subject with an empty message and decodes the answer.
func getJSON(t *testing.T, nc *nats.Conn, subject string, v any) {
	t.Helper()
	m := request(t, nc, subject, nil, nil)
	if err := json.Unmarshal(m.Data, v); err != nil {
		t.Fatalf("%s answered %q: %v", subject, m.Data, err)
	}
}

// TestBinaryHealthzFollowsExternalNATS: with an external NATS that is down
// at start, the bridge starts, /healthz is 503 naming NATS, and once NATS is
// up the bridge connects, /healthz turns 200 and the micro service answers;
// when NATS goes away again /healthz is 503 again.
func TestBinaryHealthzFollowsExternalNATS(t *testing.T) {
	bin := buildBinary(t)
	port := freePort(t)
	a := runDaemon(t, bin, "--listen", "127.0.0.1:0", "--key", filepath.Join(t.TempDir(), "a.key"),
		"--nats-url", natsURL(port), "--http", "127.0.0.1:0", "--log-format", "json")
	base := "http://" + a.await(t, "http")["http"]
	if code, body := httpGet(t, base+"/healthz"); code != 503 || !strings.HasPrefix(body, "nats: not connected") {
		t.Errorf("/healthz with NATS down: %d %q", code, body)
	}
	ext := runNATS(t, port)
	waitUntil(t, "/healthz 200 once NATS is up", func() bool {
		code, _ := httpGet(t, base+"/healthz")
		return code == 200
	})
	var ping micro.Ping
	getJSON(t, dial(t, natsURL(port)), "$SRV.PING.peerbridge", &ping)
	if ping.Metadata["node"] != a.node {
		t.Errorf("PING answer %+v", ping)
	}
	ext.Shutdown()
	ext.WaitForShutdown()
	waitUntil(t, "/healthz 503 once NATS is gone", func() bool {
		code, _ := httpGet(t, base+"/healthz")
		return code == 503
	})
	a.terminate(t)
	// Every line of a JSON log is a JSON object.
	for line := range strings.Lines(a.stderr.String()) {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %q", line)
		}
	}
}

// TestBinaryEmbeddedNATSPortTaken: the embedded NATS's port is in use, so
// the bridge exits 1 with one line giving the reason.
func TestBinaryEmbeddedNATSPortTaken(t *testing.T) {
	bin := buildBinary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cmd := exec.Command(bin, "run", "--listen", "127.0.0.1:0", "--key", filepath.Join(t.TempDir(), "a.key"),
		"--nats-listen", l.Addr().String(), "--log-level", "warn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit %v; stderr %q", err, stderr.String())
	}
	if lines := strings.Split(strings.TrimSpace(stderr.String()), "\n"); len(lines) != 1 ||
		!strings.Contains(lines[0], "address already in use") || !strings.Contains(lines[0], "--nats-listen") {
		t.Errorf("stderr %q; want one line with the reason and the fix", stderr.String())
	}
}

// TestBinaryConfigFileAndEnvironment: a flag beats the environment, which
// beats the config file, which beats the default.
func TestBinaryConfigFileAndEnvironment(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	keyFile, keyEnv, keyFlag := filepath.Join(dir, "file.key"), filepath.Join(dir, "env.key"), filepath.Join(dir, "flag.key")
	config := filepath.Join(dir, "peerbridge.yaml")
	yaml := "key: " + keyFile + "\nlisten: 127.0.0.1:0\nnats-listen: 127.0.0.1:0\nprefix: filepfx\nhttp: 127.0.0.1:0\n"
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PEERBRIDGE_CONFIG", config)
	t.Setenv("PEERBRIDGE_PREFIX", "envpfx")
	t.Setenv("PEERBRIDGE_KEY", keyEnv)
	a := runDaemon(t, bin, "--key", keyFlag)
	a.await(t, "http") // from the file

	out, err := exec.Command(bin, "id", "--key", keyFlag).Output()
	if err != nil {
		t.Fatal(err)
	}
	if node := strings.TrimSpace(string(out)); node != a.node {
		t.Errorf("node %s, want %s from the --key flag", a.node, node)
	}
	for _, f := range []string{keyFile, keyEnv} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("key file %s was made: %v", f, err)
		}
	}
	nc := dial(t, a.nats)
	unknown := nats.Header{bridge.HeaderNode: {identityID(t)}}
	if r := request(t, nc, "envpfx.request.x", unknown, nil); errCode(r) != "404" {
		t.Errorf("request on the environment's prefix: %q, want the bridge's 404", errCode(r))
	}
	if _, err := nc.Request("filepfx.request.x", nil, wait); !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("request on the file's prefix: %v, want no responders", err)
	}
	a.terminate(t)
}

// TestBinaryExitCodes: bad values exit 2 with one line naming what is
// wrong; version exits 0.
func TestBinaryExitCodes(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	exposed := filepath.Join(dir, "exposed.key")
	if out, err := exec.Command(bin, "id", "--key", exposed).CombinedOutput(); err != nil {
		t.Fatalf("peerbridge id: %v %s", err, out)
	}
	if err := os.Chmod(exposed, 0o644); err != nil {
		t.Fatal(err)
	}
	badYAML := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badYAML, []byte("max-payload: -5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "ok.key")
	base := []string{"run", "--key", key, "--listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{append(base, "--max-payload", "-5"), "--max-payload"},
		{append(base, "--listen", "nonsense"), "--listen"},
		{append(base, "--key", exposed), "chmod 600"},
		{append(base, "--log-format", "xml"), "--log-format"},
		{append(base, "--http", "nowhere"), "--http"},
		{append(base, "--config", badYAML), "--max-payload"},
		{append(base, "--config", filepath.Join(dir, "missing.yaml")), "config file"},
		{append(base, "--timeout", "-1s"), "--timeout"},
		{[]string{"gateway", "--listen", "nonsense"}, "--listen"},
		{[]string{"gateway", "--key", exposed, "--listen", "127.0.0.1:0"}, "chmod 600"},
		{[]string{"id", "--key", exposed}, "chmod 600"},
		{[]string{"status", "--wait", "0s"}, "--wait"},
		{[]string{"run", "--no-such-flag"}, "--help"},
		{[]string{"run", "--no-such-flag"}, "unknown flag --no-such-flag"},
		{append(base, "--timeout", "10"), "want a duration such as 10s, 500ms"},
		{append(base, "--max-payload", "1MB"), "--max-payload \"1MB\": want a whole number"},
		{[]string{"probe", "--gateway", "nobody"}, "--gateway"},
		{[]string{"version", "--nope"}, "unknown flag --nope"},
	} {
		cmd := exec.Command(bin, tt.args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
			t.Errorf("peerbridge %s: %v, stderr %q; want exit 2 and one line with %q", strings.Join(tt.args, " "), err, stderr.String(), tt.want)
		}
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil || !strings.HasPrefix(string(out), "peerbridge ") {
			t.Errorf("peerbridge %s: %v, %q", args[0], err, out)
		}
	}
}

// TestBinaryGatewayMetrics: the gateway's /metrics counts the bridges
// registered with it, and its /healthz is 200.
func TestBinaryGatewayMetrics(t *testing.T) {
	bin := buildBinary(t)
	g := start(t, bin, "gateway", "--key", filepath.Join(t.TempDir(), "gw.key"),
		"--listen", "127.0.0.1:0", "--listen", "127.0.0.2:0", "--http", "127.0.0.1:0")
	v := g.await(t, "gateway", "http")
	base := "http://" + v["http"]
	dir := t.TempDir()
	runDaemon(t, bin, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "a.key"), "--nats-listen", "127.0.0.1:0", "--gateway", v["gateway"])
	runDaemon(t, bin, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "b.key"), "--nats-listen", "127.0.0.1:0", "--gateway", v["gateway"])
	waitUntil(t, "two registrations", func() bool {
		return scrape(t, base, "peerbridge_gateway_registrations")["peerbridge_gateway_registrations"] == 2
	})
	scrape(t, base, "peerbridge_gateway_relay_sessions", "peerbridge_gateway_relay_bytes_total", `peerbridge_gateway_relay_packets_total{result="dropped"}`)
	if code, body := httpGet(t, base+"/healthz"); code != 200 {
		t.Errorf("gateway /healthz: %d %q", code, body)
	}
	g.terminate(t)
}
