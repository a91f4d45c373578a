package modules_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/modules"
	"github.com/peerbridge/peerbridge/modules/logging"
)

// slowMsg is the warning a slow consumer on the bridge's connection writes.
const slowMsg = "nats slow consumer: messages dropped"

// counting counts the slow-consumer records handed to the logger, before
// its rate limit, and signals reached once there are want of them.
type counting struct {
	next    slog.Handler
	n       *atomic.Int64
	want    int64
	reached chan struct{}
}

func (h counting) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }
func (h counting) WithAttrs(a []slog.Attr) slog.Handler {
	h.next = h.next.WithAttrs(a)
	return h
}
func (h counting) WithGroup(g string) slog.Handler { h.next = h.next.WithGroup(g); return h }
func (h counting) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == slowMsg && h.n.Add(1) == h.want {
		close(h.reached)
	}
	return h.next.Handle(ctx, r)
}

// lockedBuffer is a bytes.Buffer safe for the callbacks' goroutine.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSlowConsumerLogIsRateLimited: a flood that makes a subscription on
// the bridge's own NATS connection a slow consumer hundreds of times writes
// one line per rate-limit period, embedded or external.
func TestSlowConsumerLogIsRateLimited(t *testing.T) {
	external, err := modules.StartEmbedded("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer external.Shutdown()
	for _, tc := range []struct {
		name string
		cfg  modules.NATSConfig
	}{
		{"embedded", modules.NATSConfig{Listen: "127.0.0.1:0"}},
		{"external", modules.NATSConfig{URL: external.ClientURL()}},
	} {
		t.Run(tc.name, func(t *testing.T) { floodSlowConsumer(t, tc.cfg) })
	}
}

func floodSlowConsumer(t *testing.T, cfg modules.NATSConfig) {
	const events = 200
	var out lockedBuffer
	now := time.Unix(1000, 0) // one period: the limit lets one line through
	h := counting{
		next: logging.NewRateLimited(slog.NewTextHandler(&out, nil), logging.DefaultRepeatEvery, func() time.Time { return now }),
		n:    new(atomic.Int64), want: events, reached: make(chan struct{}),
	}
	var n *modules.NATS
	app := fx.New(fx.NopLogger, fx.Supply(slog.New(h)), modules.ConfigModule(modules.Config{NATS: cfg}), modules.NATSModule, fx.Populate(&n))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	sub, err := n.Conn.Subscribe("flood", func(*nats.Msg) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.SetPendingLimits(1, 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := n.Conn.Flush(); err != nil {
		t.Fatal(err)
	}
	pub, err := nats.Connect(n.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	flood(ctx, t, pub, h.reached)
	if got := strings.Count(out.String(), slowMsg); got != 1 {
		t.Errorf("%d slow-consumer events wrote %d lines, want 1 per period:\n%s", h.n.Load(), got, out.String())
	}
}

// flood publishes until reached is closed, failing the test at ctx's end.
func flood(ctx context.Context, t *testing.T, pub *nats.Conn, reached <-chan struct{}) {
	t.Helper()
	payload := make([]byte, 64)
	for {
		select {
		case <-reached:
			return
		case <-ctx.Done():
			t.Fatal("no slow-consumer events reached the logger before the deadline")
		default:
		}
		for range 1000 {
			pub.Publish("flood", payload)
		}
		pub.Flush()
	}
}

// awaitedBuffer is a lockedBuffer that closes seen once a write contains
// want.
type awaitedBuffer struct {
	lockedBuffer
	want string
	once sync.Once
	seen chan struct{}
}

func (a *awaitedBuffer) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(a.want)) {
		a.once.Do(func() { close(a.seen) })
	}
	return a.lockedBuffer.Write(p)
}

// TestDisconnectWarnsOnlyWhenLost: closing the bridge's connection to an
// external NATS at a stop writes no warning; losing the server does.
func TestDisconnectWarnsOnlyWhenLost(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lose     bool
		waitFor  string // the last line the case writes
		wantWarn bool
	}{
		{"stopped", false, "nats connection closed", false},
		{"server lost", true, "nats disconnected", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, err := modules.StartEmbedded("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer server.Shutdown()
			out := &awaitedBuffer{want: tc.waitFor, seen: make(chan struct{})}
			var n *modules.NATS
			app := fx.New(fx.NopLogger, fx.Supply(slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))),
				modules.ConfigModule(modules.Config{NATS: modules.NATSConfig{URL: server.ClientURL()}}), modules.NATSModule, fx.Populate(&n))
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if err := app.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer app.Stop(context.Background())
			if tc.lose {
				server.Shutdown()
			} else if err := app.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case <-out.seen:
			case <-ctx.Done():
				t.Fatalf("no %q line before the deadline; log:\n%s", tc.waitFor, out.String())
			}
			if got := strings.Contains(out.String(), "level=WARN msg=\"nats disconnected\""); got != tc.wantWarn {
				t.Errorf("warned of the disconnect: %v, want %v; log:\n%s", got, tc.wantWarn, out.String())
			}
		})
	}
}
