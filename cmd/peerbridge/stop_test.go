package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/modules/logging"
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

// lineWriter is a log destination that tells when a line containing want
// has been written.
type lineWriter struct {
	mu   sync.Mutex // guards buf and seen
	buf  bytes.Buffer
	want string
	seen chan struct{} // closed once want was written
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if bytes.Contains(p, []byte(w.want)) && w.seen != nil {
		close(w.seen)
		w.seen = nil
	}
	return w.buf.Write(p)
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// nanoDuration finds a duration printed with more than three decimals.
var nanoDuration = regexp.MustCompile(`\d\.\d{4,}(h|m|s|ms|µs|us)\b`)

// TestSlowStopLogsRoundedDurations: a stop that waits for a stop hook says
// what it waits for and how long it took, and no line of it, fx's own
// debug events included, prints a duration to the nanosecond.
func TestSlowStopLogsRoundedDurations(t *testing.T) {
	w := &lineWriter{want: "stopping: waiting for work in flight", seen: make(chan struct{})}
	seen := w.seen
	log, err := logging.New(w, logging.FormatText, slog.LevelDebug)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var stop stopping
	app := fx.New(fxLogger(log, &stop), fx.Invoke(func(lc fx.Lifecycle) {
		lc.Append(fx.Hook{OnStop: func(ctx context.Context) error {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		}})
	}))
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() {
		stopped <- stopApp(app, &stop, 30*time.Second, log, func() []any { return []any{"inbound_requests", 1} })
	}()
	select {
	case <-seen:
	case <-time.After(10 * time.Second):
		t.Fatalf("no report of the stop in 10 s; log:\n%s", w)
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	out := w.String()
	for _, want := range []string{"elapsed=", "left=", "inbound_requests=1", "msg=stopped took=", "runtime="} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if m := nanoDuration.FindString(out); m != "" {
		t.Errorf("log prints the duration %s unrounded:\n%s", m, out)
	}
}
