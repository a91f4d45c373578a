package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSecondSignalExitsAtOnce: the first signal cancels the context, the
// second exits with 128 plus its number and says so.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	ctx, cancel := context.WithCancelCause(context.Background())
	var stderr bytes.Buffer
	codes := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		stopOnSignals(sigs, cancel, &stderr, func(code int) { codes <- code })
	}()
	sigs <- os.Interrupt
	<-ctx.Done()
	if cause := context.Cause(ctx); !strings.Contains(cause.Error(), "interrupt") {
		t.Errorf("cause %v, want the signal", cause)
	}
	sigs <- syscall.SIGTERM
	<-done
	if code := <-codes; code != 143 || !strings.Contains(stderr.String(), "at once") {
		t.Errorf("second signal: exit %d, stderr %q; want 143 and a line", code, &stderr)
	}
}

func TestHookOwner(t *testing.T) {
	for caller, want := range map[string]string{
		"github.com/peerbridge/peerbridge/modules.newConnector":          "connector",
		"github.com/peerbridge/peerbridge/modules.registerBridge":        "bridge",
		"github.com/peerbridge/peerbridge/modules.GatewayModule.func1":   "gateway",
		"github.com/peerbridge/peerbridge/modules.registerService.func2": "service",
	} {
		if got := hookOwner(caller); got != want {
			t.Errorf("hookOwner(%q) = %q, want %q", caller, got, want)
		}
	}
}

func TestRoundDuration(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		2499994893 * time.Nanosecond: 2500 * time.Millisecond,
		1234567 * time.Nanosecond:    time.Millisecond,
		0:                            0,
	} {
		if got := roundDuration(in); got != want {
			t.Errorf("roundDuration(%v) = %v, want %v", in, got, want)
		}
	}
}
