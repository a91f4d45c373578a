package modules_test

import (
	"log/slog"
	"testing"

	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/modules"
)

// TestGraphsAreComplete checks that the daemon's and the gateway's fx
// graphs have every dependency they need, without starting anything.
func TestGraphsAreComplete(t *testing.T) {
	log := fx.Supply(slog.New(slog.DiscardHandler))
	if err := fx.ValidateApp(fx.NopLogger, log, modules.Daemon(modules.Config{KeyFile: t.TempDir() + "/k"})); err != nil {
		t.Errorf("daemon: %v", err)
	}
	if err := fx.ValidateApp(fx.NopLogger, log, modules.GatewayModule(modules.GatewayConfig{KeyFile: t.TempDir() + "/g"})); err != nil {
		t.Errorf("gateway: %v", err)
	}
}

// TestBadConfigIsRefusedBeforeStart: a --serve mapping to a wildcard is an
// error when the app is built, not once it runs.
func TestBadConfigIsRefusedBeforeStart(t *testing.T) {
	cfg := modules.Config{KeyFile: t.TempDir() + "/k", Serve: map[string]string{"x": "svc.>"}}
	app := fx.New(fx.NopLogger, fx.Supply(slog.New(slog.DiscardHandler)), modules.Daemon(cfg))
	if app.Err() == nil {
		t.Fatal("a serve mapping to a wildcard subject was accepted")
	}
}
