//go:build measure_natslog

package hostile

// The figure for row 11 of the round-2 report, run on main and on the fix
// the same way:
//
//	go test -tags measure_natslog -count=1 -run '^TestMeasureSlowConsumerLog$' -v ./test/hostile/
//
// It uses only the API that main has, and logs rather than asserts.

import (
	"context"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/modules"
	"github.com/peerbridge/peerbridge/modules/logging"
)

// lineCounter counts the lines written to it that tell of a slow consumer.
type lineCounter struct{ n atomic.Int64 }

func (l *lineCounter) Write(p []byte) (int, error) {
	for line := range strings.Lines(string(p)) {
		if strings.Contains(line, "slow consumer") {
			l.n.Add(1)
		}
	}
	return len(p), nil
}

// TestMeasureSlowConsumerLog: 100,000 messages flooded at a subscription of
// the bridge's own NATS connection with a pending limit of one message;
// lines about slow consumers written to the daemon's logger and to stderr.
func TestMeasureSlowConsumerLog(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	var stderrLines lineCounter
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(&stderrLines, r)
	}()
	var logLines lineCounter
	log, err := logging.New(&logLines, logging.FormatText, 0)
	if err != nil {
		t.Fatal(err)
	}
	var n *modules.NATS
	app := fx.New(fx.NopLogger, fx.Supply(log), modules.ConfigModule(modules.Config{NATS: modules.NATSConfig{Listen: "127.0.0.1:0"}}), modules.NATSModule, fx.Populate(&n))
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sub, err := n.Conn.Subscribe("flood", func(*nats.Msg) {})
	if err != nil {
		t.Fatal(err)
	}
	sub.SetPendingLimits(1, 1<<20)
	n.Conn.Flush()
	pub, err := nats.Connect(n.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 100_000 {
		pub.Publish("flood", make([]byte, 64))
		if i%1000 == 0 {
			pub.Flush()
		}
	}
	pub.Flush()
	took := time.Since(start)
	time.Sleep(3 * time.Second) // a measurement: let the callbacks queued by nats.go run
	dropped, _ := sub.Dropped()
	pub.Close()
	app.Stop(context.Background())
	os.Stderr = stderr
	w.Close()
	<-done
	t.Logf("slow consumer: 100,000 messages in %v, %d dropped: %d lines to stderr, %d lines to the logger",
		took.Round(time.Millisecond), dropped, stderrLines.n.Load(), logLines.n.Load())
}
