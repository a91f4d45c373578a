package modules_test

import (
	"log/slog"
	"reflect"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/modules"
)

// TestLimitsApply: set limits replace the connector's, zero ones leave them.
func TestLimitsApply(t *testing.T) {
	l := modules.Limits{MaxConns: 7, MaxConnsPerIP: 3, FrameTimeout: time.Second, MaxQueue: 5, MaxQueuedBytes: 1 << 20, MaxQueuedBytesPerPeer: 1 << 19}
	got := l.Apply(connector.Config{MaxConns: 100, MaxStreams: 9, MaxQueues: 2, ListenAddr: "x"})
	want := connector.Config{MaxConns: 7, MaxConnsPerIP: 3, MaxStreams: 9, FrameTimeout: time.Second, MaxQueue: 5, MaxQueues: 2, MaxQueuedBytes: 1 << 20, MaxQueuedBytesPerPeer: 1 << 19, ListenAddr: "x"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Apply = %+v, want %+v", got, want)
	}
}

// TestBadLimitsAreRefusedBeforeStart: a frame budget too small for one
// frame is an error when the daemon is built.
func TestBadLimitsAreRefusedBeforeStart(t *testing.T) {
	cfg := modules.Config{KeyFile: t.TempDir() + "/k", Limits: modules.Limits{ConnFrameBudget: 1000}}
	var c *connector.Connector
	app := fx.New(fx.NopLogger, fx.Supply(slog.New(slog.DiscardHandler)), modules.Daemon(cfg), fx.Populate(&c))
	if app.Err() == nil {
		t.Fatal("a per-connection frame budget of 1000 bytes was accepted")
	}
}
