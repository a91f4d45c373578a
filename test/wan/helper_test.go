package wan_test

import (
	"context"
	"io"

	"net/netip"
	"os"
	"os/exec"
	"testing"

	"github.com/peerbridge/peerbridge/test/natlab"
	"github.com/peerbridge/peerbridge/test/wan"
)

// The gateway helper's environment and lines; the hub's and the spoke's
// are package wan's.
const (
	envAddrs    = "PEERBRIDGE_WAN_ADDRS" // the gateway's, comma-separated
	roleGateway = "gateway"
	lineGateway = "WAN-GATEWAY "
	lineRelay   = "WAN-RELAY "
)

// TestWANHelper is not a test: TestWAN runs this binary inside a lab
// namespace with wan.EnvRole set, and this function then plays that side
// (wan.Play, or the gateway). With wan.EnvRole unset it returns at once.
func TestWANHelper(t *testing.T) {
	switch os.Getenv(wan.EnvRole) {
	case "":
		return
	case roleGateway:
		addr, err := netip.ParseAddr(os.Getenv(wan.EnvAddr))
		if err != nil {
			t.Fatalf("address: %v", err)
		}
		playGateway(t, addr)
	default:
		if err := wan.Play(t.Context(), os.Getenv, os.Stdin, os.Stdout); err != nil {
			t.Fatal(err)
		}
	}
}

// awaitStdinClosed returns when the test closes the helper's stdin (or
// dies, which closes it too).
func awaitStdinClosed() {
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// helperCommand runs this test binary as a helper inside host.
func helperCommand(t *testing.T) wan.CommandFunc {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context, host *natlab.Host) *exec.Cmd {
		return host.Command(ctx, exe, "-test.run=^TestWANHelper$", "-test.count=1",
			"-test.timeout="+wan.HelperTimeout.String())
	}
}

// startHelper runs role inside host with env added to the environment, and
// registers its stop with t.Cleanup.
func startHelper(t *testing.T, host *natlab.Host, role string, env ...string) *wan.Process {
	t.Helper()
	command := helperCommand(t)
	env = append(env, wan.EnvRole+"="+role, wan.EnvAddr+"="+host.Addrs()[0].String())
	p, err := wan.StartProcess(role, func(ctx context.Context) *exec.Cmd {
		cmd := command(ctx, host)
		cmd.Env = append(os.Environ(), env...)
		return cmd
	})
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, p)
	return p
}

// stopOnCleanup stops p when t ends, logging its output if t failed.
func stopOnCleanup(t *testing.T, p *wan.Process) {
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("helper output:\n%s", p.Output())
		}
	})
}

// runSides runs side B on b and side A on a, and returns what A measured
// and B's helper, still running (stopped when t ends).
func runSides(t *testing.T, a, b *natlab.Host, o wan.Options) (wan.Result, *wan.Process) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), sidesTimeout)
	defer cancel()
	r, hub, err := wan.RunSides(ctx, wan.Sides{A: a, B: b, Dir: t.TempDir(), Command: helperCommand(t)}, o)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, hub)
	return r, hub
}
