package wan_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/test/natlab"
	"github.com/peerbridge/peerbridge/test/wan"
)

// The helper process's environment: its role and what it needs.
const (
	envRole    = "PEERBRIDGE_WAN_ROLE"
	envAddr    = "PEERBRIDGE_WAN_ADDR"
	envDir     = "PEERBRIDGE_WAN_DIR"
	envOptions = "PEERBRIDGE_WAN_OPTIONS"
	envHub     = "PEERBRIDGE_WAN_HUB"
	envAddrs   = "PEERBRIDGE_WAN_ADDRS" // the gateway's, comma-separated

	roleHub     = "hub"
	roleSpoke   = "spoke"
	roleGateway = "gateway"

	// Prefixes of the helper's lines meant for the test: the hub's info
	// and the spoke's result, each followed by JSON.
	lineHub     = "WAN-HUB "
	lineResult  = "WAN-RESULT "
	lineGateway = "WAN-GATEWAY "
	lineRelay   = "WAN-RELAY "
	lineHubStop = "WAN-HUB-RELAY "
)

// helperTimeout bounds a helper's whole life; helperStop bounds its exit
// once asked to stop.
const (
	helperTimeout = 3 * time.Minute
	helperStop    = 20 * time.Second
)

// TestWANHelper is not a test: TestWAN runs this binary inside a lab
// namespace with envRole set, and this function then plays that side. With
// envRole unset it returns at once.
func TestWANHelper(t *testing.T) {
	role := os.Getenv(envRole)
	if role == "" {
		return
	}
	var o wan.Options
	if err := json.Unmarshal([]byte(os.Getenv(envOptions)), &o); err != nil {
		t.Fatalf("options: %v", err)
	}
	addr, err := netip.ParseAddr(os.Getenv(envAddr))
	if err != nil {
		t.Fatalf("address: %v", err)
	}
	switch role {
	case roleHub:
		playHub(t, addr, o)
	case roleSpoke:
		playSpoke(t, addr, o)
	case roleGateway:
		playGateway(t, addr)
	default:
		t.Fatalf("unknown role %q", role)
	}
}

// playHub runs side B, prints its info and serves until stdin closes.
func playHub(t *testing.T, addr netip.Addr, o wan.Options) {
	ctx, cancel := context.WithTimeout(t.Context(), wan.DefaultSetupTimeout)
	h, err := wan.StartHub(ctx, addr, os.Getenv(envDir), o)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := h.Close(); err != nil {
			t.Error(err)
		}
	}()
	printLine(t, lineHub, h.Info())
	awaitStdinClosed()
	st := h.RelayStats()
	printLine(t, lineHubStop, wan.RelayCounts{Delivered: st.Delivered, Dropped: st.Dropped})
}

// awaitStdinClosed returns when the test closes the helper's stdin (or
// dies, which closes it too).
func awaitStdinClosed() {
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// playSpoke runs side A, measures and prints the result.
func playSpoke(t *testing.T, addr netip.Addr, o wan.Options) {
	var hub wan.HubInfo
	if err := json.Unmarshal([]byte(os.Getenv(envHub)), &hub); err != nil {
		t.Fatalf("hub info: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), wan.DefaultSetupTimeout)
	s, err := wan.StartSpoke(ctx, addr, os.Getenv(envDir), hub, o)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	r, err := s.Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	printLine(t, lineResult, r)
}

// helper is this test binary running as one side inside a lab host.
type helper struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.Closer
	stderr bytes.Buffer // written by exec's copier; read after Wait

	mu   sync.Mutex    // guards out
	out  []string      // every stdout line so far
	more chan struct{} // signalled (without blocking) after each line
	eof  chan struct{} // closed when stdout ends

	wg   sync.WaitGroup // the stdout reader
	once sync.Once
}

// startHelper runs role inside host with env added to the environment, and
// registers its stop with t.Cleanup.
func startHelper(t *testing.T, host *natlab.Host, role string, env ...string) *helper {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), helperTimeout)
	h := &helper{name: role, more: make(chan struct{}, 1), eof: make(chan struct{})}
	h.cmd = host.Command(ctx, exe, "-test.run=^TestWANHelper$", "-test.count=1",
		"-test.timeout="+helperTimeout.String())
	h.cmd.Env = append(append(os.Environ(), envRole+"="+role, envAddr+"="+host.Addrs()[0].String()), env...)
	h.cmd.Stderr = &h.stderr
	h.cmd.WaitDelay = time.Second
	stdin, err := h.cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stdout, err := h.cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	h.stdin = stdin
	if err := h.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting the %s helper: %v", role, err)
	}
	h.wg.Go(func() { h.read(stdout) })
	t.Cleanup(func() {
		defer cancel()
		if err := h.stop(); err != nil {
			t.Errorf("%s helper: %v", role, err)
		}
		if t.Failed() {
			t.Logf("%s helper output:\n%s", role, h.output())
		}
	})
	return h
}

// read collects the helper's stdout lines until EOF.
func (h *helper) read(r io.Reader) {
	defer close(h.eof)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		h.mu.Lock()
		h.out = append(h.out, sc.Text())
		h.mu.Unlock()
		select {
		case h.more <- struct{}{}:
		default:
		}
	}
}

// await decodes into v the JSON after prefix on the first line that starts
// with it, or fails if the helper ends or ctx does first.
func (h *helper) await(ctx context.Context, prefix string, v any) error {
	what := strings.TrimSpace(prefix)
	for next := 0; ; {
		h.mu.Lock()
		lines := h.out[next:]
		next = len(h.out)
		h.mu.Unlock()
		for _, line := range lines {
			if rest, found := strings.CutPrefix(line, prefix); found {
				return json.Unmarshal([]byte(rest), v)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s from the %s helper: %w", what, h.name, ctx.Err())
		case <-h.more:
		case <-h.eof:
			h.mu.Lock()
			done := next == len(h.out)
			h.mu.Unlock()
			if done {
				return fmt.Errorf("the %s helper ended without %s", h.name, what)
			}
		}
	}
}

// stop closes the helper's stdin, which asks a hub to stop, and waits for
// it to exit; after helperStop it is killed. It may be called more than
// once; only the first call reports.
func (h *helper) stop() error {
	var err error
	h.once.Do(func() {
		_ = h.stdin.Close()
		kill := time.AfterFunc(helperStop, func() { _ = h.cmd.Process.Kill() })
		defer kill.Stop()
		h.wg.Wait()
		err = h.cmd.Wait()
	})
	return err
}

// output is what the helper printed, for failure reports; only once it
// has stopped.
func (h *helper) output() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.out, "\n") + "\n" + h.stderr.String()
}
