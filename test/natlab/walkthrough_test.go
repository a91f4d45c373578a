package natlab_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/test/natlab"
)

// walkWait bounds each step of the walkthrough.
const walkWait = 30 * time.Second

// TestREADMEWalkthrough follows the README's "Deploying on two hosts behind
// NATs" with the built binary, as a user would, in the lab: the gateway on a
// public host with two addresses, a probe from each bridge host, a bridge
// behind each of two home NATs with its key in its state directory, node
// IDs exchanged with 'peerbridge id', a request by node ID alone, and
// 'peerbridge status' showing the peer and its path (issue 23).
func TestREADMEWalkthrough(t *testing.T) {
	lab := natlab.New(t)
	bin := buildPeerbridge(t)
	g := lab.AddPublicHost("wg", 2)
	hosts := map[string]*natlab.Host{
		"a": lab.AddNAT("wna", natlab.PortRestricted).AddHost("wa"),
		"b": lab.AddNAT("wnb", natlab.PortRestricted).AddHost("wb"),
	}

	// 1. The gateway, on G, on both of its addresses.
	second := g.Addrs()[1].String()
	gw := startIn(t, g, bin, t.TempDir(), "gateway", "--listen", "0.0.0.0:9444", "--listen", second+":9445")
	gwNode := gw.await(t, "node")["node"]
	gateway := gwNode + "@" + g.Addrs()[0].String() + ":9444"

	// 2. Check each bridge host's NAT.
	for name, h := range hosts {
		out := runIn(t, h, bin, t.TempDir(), "probe", "--gateway", gateway)
		if !strings.Contains(out, "(checked)") || !strings.Contains(out, "port-restricted") {
			t.Errorf("probe from %s:\n%s", name, out)
		}
	}

	// 3. The bridges, each with the gateway; keys in their state directories.
	state := map[string]string{"a": t.TempDir(), "b": t.TempDir()}
	nodes := map[string]map[string]string{}
	for name, h := range hosts {
		p := startIn(t, h, bin, state[name], "run", "--gateway", gateway)
		nodes[name] = p.await(t, "node", "nats")
	}

	// 4. Exchange node IDs: 'peerbridge id' prints what the bridge runs as.
	for name, h := range hosts {
		if id := strings.TrimSpace(runIn(t, h, bin, state[name], "id")); id != nodes[name]["node"] {
			t.Errorf("peerbridge id on %s printed %q, the bridge runs as %q", name, id, nodes[name]["node"])
		}
	}
	ncA := dialIn(t, hosts["a"], nodes["a"]["nats"])
	ncB := dialIn(t, hosts["b"], nodes["b"]["nats"])
	if _, err := ncB.Subscribe("peer.recv.echo", func(m *nats.Msg) { m.Respond(m.Data) }); err != nil {
		t.Fatal(err)
	}
	if err := ncB.Flush(); err != nil {
		t.Fatal(err)
	}
	msg := &nats.Msg{Subject: "peer.request.echo", Header: nats.Header{bridge.HeaderNode: {nodes["b"]["node"]}}, Data: []byte("hello b")}
	r := requestUntilRegistered(t, ncA, msg)
	if string(r.Data) != "hello b" || r.Header.Get(bridge.HeaderError) != "" {
		t.Fatalf("request by node ID: %v %q", r.Header, r.Data)
	}
	path := r.Header.Get(bridge.HeaderPath)
	if path != "direct" && path != "punched" {
		t.Errorf("two port-restricted homes met over path %q, want a punched (direct) one", path)
	}

	// 5. Check with 'peerbridge status' on A: B, with its path.
	status := runIn(t, hosts["a"], bin, state["a"], "status", "--nats-url", nodes["a"]["nats"])
	if line := lineWith(status, nodes["b"]["node"]); !strings.Contains(line, path) {
		t.Errorf("peerbridge status on a does not show b with path %s:\n%s", path, status)
	}
	t.Logf("walkthrough: request answered over %s; status on a:\n%s", path, status)
}

// lineWith is the first line of text that holds s, or "".
func lineWith(text, s string) string {
	for line := range strings.Lines(text) {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}

// requestUntilRegistered sends msg until it is answered with anything but
// 404, which it is until the target's first registration reached the
// gateway (nothing outside the target shows that moment), within walkWait.
func requestUntilRegistered(t *testing.T, nc *nats.Conn, msg *nats.Msg) *nats.Msg {
	t.Helper()
	deadline := time.Now().Add(walkWait)
	for {
		r, err := nc.RequestMsg(msg, walkWait)
		if err != nil {
			t.Fatalf("request by node ID: %v", err)
		}
		if r.Header.Get(bridge.HeaderErrorCode) != "404" || time.Now().After(deadline) {
			return r
		}
		time.Sleep(50 * time.Millisecond) // bounded by the deadline
	}
}

// buildPeerbridge builds the peerbridge command once for the test.
func buildPeerbridge(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "peerbridge")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/peerbridge/peerbridge/cmd/peerbridge")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building peerbridge: %v\n%s", err, out)
	}
	return bin
}

// stateEnv is the environment of a command whose state directory is dir,
// as a user's is ~/.local/state.
func stateEnv(dir string) []string {
	env := []string{"XDG_STATE_HOME=" + dir, "HOME=" + dir}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STATE_DIRECTORY=") && !strings.HasPrefix(kv, "XDG_STATE_HOME=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return env
}

// runIn runs 'peerbridge args...' on h and returns its standard output.
func runIn(t *testing.T, h *natlab.Host, bin, state string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), walkWait)
	defer cancel()
	cmd := h.Command(ctx, bin, args...)
	cmd.Env = stateEnv(state)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("peerbridge %s on %s: %v\n%s%s", args[0], h.Name(), err, out, stderr.String())
	}
	return string(out)
}

// labProcess is a long-running peerbridge command in the lab.
type labProcess struct {
	name  string
	lines chan string
}

// startIn starts 'peerbridge args...' on h until the test ends.
func startIn(t *testing.T, h *natlab.Host, bin, state string, args ...string) *labProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := h.Command(ctx, bin, args...)
	cmd.Env = stateEnv(state)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	p := &labProcess{name: "peerbridge " + args[0] + " on " + h.Name(), lines: make(chan string, 64)}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { // owns stdout until the process ends
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
	}()
	errDone := make(chan struct{})
	var errText strings.Builder
	go func() { // owns stderr
		defer close(errDone)
		io.Copy(&errText, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		<-errDone
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", p.name, errText.String())
		}
	})
	return p
}

// await waits for the first "key: value" line of each key.
func (p *labProcess) await(t *testing.T, keys ...string) map[string]string {
	t.Helper()
	got := map[string]string{}
	timeout := time.After(walkWait)
	for len(got) < len(keys) {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("%s ended before printing %v", p.name, keys)
			}
			k, v, found := strings.Cut(line, ": ")
			for _, want := range keys {
				if _, seen := got[k]; found && k == want && !seen {
					got[k] = strings.TrimSpace(v)
				}
			}
		case <-timeout:
			t.Fatalf("%s printed no %v within %v", p.name, keys, walkWait)
		}
	}
	return got
}

// dialIn connects a NATS client on h to url, as a program on h would.
func dialIn(t *testing.T, h *natlab.Host, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.SetCustomDialer(hostDialer{h}), nats.Timeout(walkWait))
	if err != nil {
		t.Fatalf("connecting to %s on %s: %v", url, h.Name(), err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// hostDialer dials from inside a lab host's namespace.
type hostDialer struct{ h *natlab.Host }

func (d hostDialer) Dial(network, address string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), walkWait)
	defer cancel()
	return d.h.DialContext(ctx, network, address)
}

// TestProbeReportsBothFamilies: 'peerbridge probe' on a dual-stack home,
// naming the gateway by a name with an A and an AAAA record, reports the
// IPv4 NAT and the home's public IPv6 address, as tailscale netcheck
// reports both (issue 22).
func TestProbeReportsBothFamilies(t *testing.T) {
	lab := natlab.New(t, natlab.WithIPv6())
	bin := buildPeerbridge(t)
	gwHost := lab.AddPublicHost("pg", 2)
	g := startDualGateway(t, gwHost)
	h := lab.AddNAT("pn", natlab.PortRestricted).AddHost("ph")
	hostsFile(t, h, gatewayName, gwHost.Addrs()[0], gwHost.Addrs6()[0])
	out := runIn(t, h, bin, t.TempDir(), "probe", "--port-mapping=false",
		"--gateway", g.NodeID().String()+"@"+gatewayName+":"+strconv.Itoa(gatewayPort))
	if want := "[" + h.Addrs6()[0].String() + "]:"; !strings.Contains(out, "port-restricted") || !strings.Contains(lineWith(out, "ipv6:"), want) {
		t.Errorf("probe output lacks the IPv4 NAT or an ipv6 line with %s:\n%s", want, out)
	}
	t.Logf("probe:\n%s", out)
}

// hostsFile gives the commands run on h (through "ip netns exec", which
// mounts /etc/netns/<namespace>/hosts over /etc/hosts) a hosts file naming
// addrs name, until the test ends.
func hostsFile(t *testing.T, h *natlab.Host, name string, addrs ...netip.Addr) {
	t.Helper()
	const base = "/etc/netns"
	_, err := os.Stat(base)
	made := os.IsNotExist(err)
	dir := filepath.Join(base, h.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.RemoveAll(dir) // the namespace's own, named with the lab's prefix
		if made {
			os.Remove(base) // only if empty: another program may use it by now
		}
	})
	var b strings.Builder
	for _, a := range addrs {
		fmt.Fprintf(&b, "%s %s\n", a, name)
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
