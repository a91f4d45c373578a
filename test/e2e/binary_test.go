package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
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

// daemon is a running 'peerbridge run' process.
type daemon struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan error
	node   string
	quic   string
	nats   string
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

// runDaemon starts 'peerbridge run args...' and waits for the lines it
// prints on start: its node ID, QUIC address and NATS URL.
func runDaemon(t *testing.T, bin string, args ...string) *daemon {
	t.Helper()
	d := &daemon{cmd: exec.Command(bin, append([]string{"run"}, args...)...), stderr: &syncBuffer{}, exited: make(chan error, 1)}
	d.cmd.Stderr = d.stderr
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// One goroutine owns stdout and the process: it passes the first lines
	// on, reads to the end, then reaps the process.
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody reads any more
			}
		}
		close(lines)
		d.exited <- d.cmd.Wait()
	}()
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		<-d.exited
	})
	got := map[string]*string{"node": &d.node, "quic": &d.quic, "nats": &d.nats}
	timeout := time.After(wait)
	for d.node == "" || d.quic == "" || d.nats == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("peerbridge run exited before printing its addresses; stderr:\n%s", d.stderr)
			}
			if k, v, ok := strings.Cut(line, ": "); ok && got[k] != nil {
				*got[k] = strings.TrimSpace(v)
			}
		case <-timeout:
			t.Fatalf("peerbridge run printed no addresses within %v; stderr:\n%s", wait, d.stderr)
		}
	}
	return d
}

// terminate sends SIGTERM and waits for a clean exit.
func (d *daemon) terminate(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.exited:
		d.exited <- err // for the cleanup
		if err != nil {
			t.Errorf("peerbridge run exited with %v after SIGTERM; stderr:\n%s", err, d.stderr)
		}
	case <-time.After(wait):
		t.Errorf("peerbridge run did not exit within %v of SIGTERM", wait)
	}
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
		{"id"},
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
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"id", "--help"}, {"gateway", "--help"}, {"probe", "--help"}} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil || !strings.Contains(string(out), "Usage") {
			t.Errorf("peerbridge %s: %v, output %q; want usage and exit 0", strings.Join(args, " "), err, out)
		}
	}
}

// startGateway runs 'peerbridge gateway' on two loopback addresses and
// returns its NODEID@host:port.
func startGateway(t *testing.T, bin string) string {
	t.Helper()
	cmd := exec.Command(bin, "gateway", "--key", filepath.Join(t.TempDir(), "gw.key"),
		"--listen", "127.0.0.1:0", "--listen", "127.0.0.2:0")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
		cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(wait):
			cmd.Process.Kill()
			<-exited
		}
	})
	timeout := time.After(wait)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("peerbridge gateway exited; stderr:\n%s", stderr)
			}
			if gw, ok := strings.CutPrefix(line, "gateway: "); ok {
				return strings.TrimSpace(gw)
			}
		case <-timeout:
			t.Fatalf("peerbridge gateway printed no address within %v; stderr:\n%s", wait, stderr)
		}
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
	// registered, which it does as it starts, so retry briefly until then.
	deadline := time.Now().Add(wait)
	for {
		r := request(t, ncA, "peer.request.echo", nats.Header{bridge.HeaderNode: {b.node}}, []byte("via gateway"))
		if errCode(r) == "" {
			if string(r.Data) != "via gateway" || r.Header.Get(bridge.HeaderFrom) != b.node {
				t.Errorf("reply %q from %q", r.Data, r.Header.Get(bridge.HeaderFrom))
			}
			break
		}
		if errCode(r) != "404" || time.Now().After(deadline) {
			t.Fatalf("request by node ID: %s %s", errCode(r), r.Header.Get(bridge.HeaderError))
		}
		time.Sleep(20 * time.Millisecond) // b's registration has no event a can see
	}
	a.terminate(t)
	b.terminate(t)
}
