package e2e_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge"
)

// TestBinaryKeyInStateDirectory: without --key, run and id keep the key
// in the user's state directory, made 0700; the first start says in one
// line that it made a new node, a restart keeps the node and says nothing.
func TestBinaryKeyInStateDirectory(t *testing.T) {
	bin := buildBinary(t)
	state := t.TempDir()
	env := []string{"STATE_DIRECTORY=", "XDG_STATE_HOME=" + state}
	dir := filepath.Join(state, "peerbridge")
	args := []string{"--listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0"}

	first := runDaemonEnv(t, bin, env, args...)
	first.terminate(t)
	if n := strings.Count(first.stderr.String(), "created a new identity key"); n != 1 || !strings.Contains(first.stderr.String(), filepath.Join(dir, "peerbridge.key")) {
		t.Errorf("first start said %d times it made a key; stderr:\n%s", n, first.stderr)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("state directory %s: %v, mode %v; want 0700", dir, err, info.Mode().Perm())
	}
	again := runDaemonEnv(t, bin, env, args...)
	again.terminate(t)
	if again.node != first.node || strings.Contains(again.stderr.String(), "created a new identity key") {
		t.Errorf("restart: node %s, was %s; stderr:\n%s", again.node, first.node, again.stderr)
	}
	cmd := exec.Command(bin, "id")
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.Output(); err != nil || strings.TrimSpace(string(out)) != first.node {
		t.Errorf("peerbridge id: %v, %q; want %s", err, out, first.node)
	}
}

// runDaemonEnv is runDaemon with env added to the environment.
func runDaemonEnv(t *testing.T, bin string, env []string, args ...string) *daemon {
	t.Helper()
	p := startEnv(t, bin, env, "run", args...)
	v := p.await(t, "node", "quic", "nats")
	return &daemon{process: p, node: v["node"], quic: v["quic"], nats: v["nats"]}
}

// TestBinarySecondSignalStopsAtOnce: a stop with a request from a peer in
// flight says what it waits for; a second SIGTERM ends it at once with
// exit 143.
func TestBinarySecondSignalStopsAtOnce(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	b := runDaemon(t, bin, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "b.key"), "--nats-listen", "127.0.0.1:0",
		"--serve", "slow=svc.slow", "--grace", "30s")
	a := runDaemon(t, bin, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "a.key"), "--nats-listen", "127.0.0.1:0",
		"--peer", b.node+"@"+b.quic, "--timeout", "30s")
	arrived := make(chan struct{}, 1)
	if _, err := dial(t, b.nats).Subscribe("svc.slow", func(*nats.Msg) { arrived <- struct{}{} }); err != nil { // never answers
		t.Fatal(err)
	}
	ncA := dial(t, a.nats)
	if err := ncA.PublishMsg(&nats.Msg{Subject: "peer.request.slow", Reply: nats.NewInbox(), Header: nats.Header{bridge.HeaderNode: {b.node}}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-time.After(wait):
		t.Fatalf("the request did not reach b's service; stderr of a:\n%s", a.stderr)
	}

	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "b says what its stop waits for", func() bool {
		return strings.Contains(b.stderr.String(), "stopping: waiting for work in flight")
	})
	if line := lineWith(b.stderr.String(), "stopping: waiting"); !strings.Contains(line, "inbound_requests=1") || !strings.Contains(line, "waiting_for=bridge") {
		t.Errorf("the stop's line %q does not name the request in flight", line)
	}
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-b.exited:
		b.exited <- err
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 143 || !strings.Contains(b.stderr.String(), "second signal") {
			t.Errorf("after the second SIGTERM: %v; want exit 143; stderr:\n%s", err, b.stderr)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("b did not exit within 2s of the second SIGTERM; stderr:\n%s", b.stderr)
	}
}

// lineWith is the first line of text containing s.
func lineWith(text, s string) string {
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
