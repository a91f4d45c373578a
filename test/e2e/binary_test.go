package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge"
)

// buildBinary builds cmd/peerbridge into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e: skipping the binary test in -short mode (it builds peerbridge)")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("e2e: skipping: the go command is not on PATH to build peerbridge")
	}
	bin := filepath.Join(t.TempDir(), "peerbridge")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/peerbridge/peerbridge/cmd/peerbridge").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is a running peerbridge command.
type process struct {
	name   string // the subcommand, for messages
	cmd    *exec.Cmd
	stderr *syncBuffer
	lines  chan string // stdout, line by line, while somebody reads it
	exited chan error  // the exit, once; put back by whoever takes it
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs 'peerbridge sub args...'; the test's cleanup kills it.
func start(t *testing.T, bin, sub string, args ...string) *process {
	t.Helper()
	return startEnv(t, bin, nil, sub, args...)
}

// startEnv is start with env added to the environment.
func startEnv(t *testing.T, bin string, env []string, sub string, args ...string) *process {
	t.Helper()
	p := &process{
		name:   "peerbridge " + sub,
		cmd:    exec.Command(bin, append([]string{sub}, args...)...),
		stderr: &syncBuffer{},
		lines:  make(chan string, 64),
		exited: make(chan error, 1),
	}
	p.cmd.Stderr = p.stderr
	p.cmd.Env = append(os.Environ(), env...)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// One goroutine owns stdout and the process: it passes the first lines
	// on, reads to the end, then reaps the process.
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody reads any more
			}
		}
		close(p.lines)
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// await waits for the first "key: value" line of each key and returns the
// values.
func (p *process) await(t *testing.T, keys ...string) map[string]string {
	t.Helper()
	got := make(map[string]string, len(keys))
	timeout := time.After(wait)
	for len(got) < len(keys) {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("%s exited before printing %v; stderr:\n%s", p.name, keys, p.stderr)
			}
			k, v, ok := strings.Cut(line, ": ")
			if _, seen := got[k]; ok && !seen && slices.Contains(keys, k) {
				got[k] = strings.TrimSpace(v)
			}
		case <-timeout:
			t.Fatalf("%s printed no %v within %v; stderr:\n%s", p.name, keys, wait, p.stderr)
		}
	}
	return got
}

// terminate sends SIGTERM and waits for a clean exit.
func (p *process) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		p.exited <- err // for the cleanup
		if err != nil {
			t.Errorf("%s exited with %v after SIGTERM; stderr:\n%s", p.name, err, p.stderr)
		}
	case <-time.After(wait):
		t.Errorf("%s did not exit within %v of SIGTERM", p.name, wait)
	}
}

// daemon is a running 'peerbridge run' and the addresses it printed.
type daemon struct {
	*process
	node, quic, nats string
}

// runDaemon starts 'peerbridge run args...' and waits for the lines it
// prints on start: its node ID, QUIC address and NATS URL.
func runDaemon(t *testing.T, bin string, args ...string) *daemon {
	t.Helper()
	return runDaemonEnv(t, bin, nil, args...)
}

func TestBinaryAsAUserRunsIt(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	keyB := filepath.Join(dir, "b.key")

	b := runDaemon(t, bin, "--listen", "127.0.0.1:0", "--key", keyB, "--nats-listen", "127.0.0.1:0",
		"--serve", "service.echo=svc.echo")
	a := runDaemon(t, bin, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "a.key"), "--nats-listen", "127.0.0.1:0",
		"--peer", b.node+"@"+b.quic)

	// peerbridge id prints the same node ID for the same key.
	out, err := exec.Command(bin, "id", "--key", keyB).Output()
	if err != nil {
		t.Fatalf("peerbridge id: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != b.node {
		t.Errorf("peerbridge id printed %q, the daemon %q", got, b.node)
	}
	if info, err := os.Stat(keyB); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v, want 0600", err, info.Mode().Perm())
	}

	// The stock client on both sides: a service on b, a requester on a.
	ncA, ncB := dial(t, a.nats), dial(t, b.nats)
	serve(t, ncB, "svc.echo", func(m *nats.Msg) *nats.Msg { return &nats.Msg{Data: append([]byte("echo: "), m.Data...)} })
	r := request(t, ncA, "peer.request.service.echo", nats.Header{bridge.HeaderNode: {b.node}}, []byte("hi"))
	mustOK(t, r)
	if string(r.Data) != "echo: hi" || r.Header.Get(bridge.HeaderPath) != "direct" || r.Header.Get(bridge.HeaderFrom) != b.node {
		t.Errorf("reply %q with headers %v", r.Data, r.Header)
	}
	got := subscribe(t, ncB, "peer.recv.note")
	if err := ncA.PublishMsg(&nats.Msg{Subject: "peer.send.note", Header: nats.Header{bridge.HeaderNode: {b.node}}, Data: []byte("n1")}); err != nil {
		t.Fatal(err)
	}
	if m := next(t, got); string(m.Data) != "n1" || m.Header.Get(bridge.HeaderFrom) != a.node {
		t.Errorf("received %q from %q", m.Data, m.Header.Get(bridge.HeaderFrom))
	}

	a.terminate(t)
	b.terminate(t)
}

func TestBinaryRefusesBadFlags(t *testing.T) {
	bin := buildBinary(t)
	for _, args := range [][]string{
		{"run", "--no-such-flag"},
		{"run", "--peer", "not-a-peer"},
		{"run", "--serve", "missing-equals"},
		{"run", "--timeout", "10"},
		{"id", "--key"},
		{"version", "extra"},
		{"no-such-command"},
	} {
		cmd := exec.Command(bin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || stderr.Len() == 0 {
			t.Errorf("peerbridge %s: %v, stderr %q; want exit 2 with a message", strings.Join(args, " "), err, stderr.String())
		}
	}
	for _, args := range [][]string{{"--help"}, {"help"}, {"run", "--help"}, {"id", "--help"}, {"gateway", "--help"}, {"probe", "--help"},
		{"status", "--help"}, {"version", "--help"}, {"bench", "--help"}, {"run", "-h"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Usage") || strings.Contains(string(out), "\n  -") && !strings.Contains(string(out), "\n  --") {
			t.Errorf("peerbridge %s: %v, output %q; want usage in --flag style and exit 0", strings.Join(args, " "), err, out)
		}
	}
}

// startGateway runs 'peerbridge gateway' on two loopback addresses and
// returns its NODEID@host:port.
func startGateway(t *testing.T, bin string) string {
	t.Helper()
	p := start(t, bin, "gateway", "--key", filepath.Join(t.TempDir(), "gw.key"),
		"--listen", "127.0.0.1:0", "--listen", "127.0.0.2:0")
	return p.await(t, "gateway")["gateway"]
}

// requestOnceRegistered sends data to node's echo service through nc,
// naming node alone, until the answer is something else than 404 (node
// unknown to the gateways), which it is until node's registration arrives:
// nothing outside node shows that moment. It fails the test on any other
// error code, or if node is still unknown after wait.
func requestOnceRegistered(t *testing.T, nc *nats.Conn, node, data string) *nats.Msg {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		r := request(t, nc, "peer.request.echo", nats.Header{bridge.HeaderNode: {node}}, []byte(data))
		if errCode(r) == "" {
			return r
		}
		if errCode(r) != "404" || time.Now().After(deadline) {
			t.Fatalf("request by node ID: %s %s", errCode(r), r.Header.Get(bridge.HeaderError))
		}
		time.Sleep(20 * time.Millisecond) // bounded by the deadline
	}
}

func TestBinaryFindsPeerThroughGateway(t *testing.T) {
	bin := buildBinary(t)
	gw := startGateway(t, bin)
	dir := t.TempDir()
	b := runDaemon(t, bin, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "b.key"), "--nats-listen", "127.0.0.1:0", "--gateway", gw)
	a := runDaemon(t, bin, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "a.key"), "--nats-listen", "127.0.0.1:0", "--gateway", gw)
	ncA, ncB := dial(t, a.nats), dial(t, b.nats)
	echo(t, ncB, "peer.recv.echo")

	// a knows only b's node ID; the gateway knows where b is once b has
	// registered, which it does as it starts.
	r := requestOnceRegistered(t, ncA, b.node, "via gateway")
	if string(r.Data) != "via gateway" || r.Header.Get(bridge.HeaderFrom) != b.node {
		t.Errorf("reply %q from %q", r.Data, r.Header.Get(bridge.HeaderFrom))
	}
	a.terminate(t)
	b.terminate(t)
}
