package modules_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/peerbridge/peerbridge/modules"
	"github.com/peerbridge/peerbridge/modules/admin"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
)

// TestGatewayFleetHealth: a gateway started with a fleet NATS reports the
// fleet on /healthz and in its metrics, healthy while NATS is up and
// unhealthy once it has gone.
func TestGatewayFleetHealth(t *testing.T) {
	ns := natpunchtest.StartNATS(t)
	cfg := modules.GatewayConfig{
		KeyFile: t.TempDir() + "/g", HTTP: "127.0.0.1:0",
		Gateway: gateway.Config{Listen: []string{"127.0.0.1:0"}, ListenTCP: []string{"off"}},
		Fleet:   modules.NATSConfig{URL: ns.ClientURL()},
	}
	var (
		g   *gateway.Gateway
		srv *admin.Server
	)
	app := fxtest.New(t, fx.Supply(slog.New(slog.DiscardHandler)), modules.GatewayModule(cfg), fx.Populate(&g, &srv))
	app.RequireStart()
	defer app.RequireStop()
	if code, body := get(t, "http://"+srv.Addr().String()+"/healthz"); code != 200 {
		t.Fatalf("healthz with the fleet up: %d %s", code, body)
	}
	if _, body := get(t, "http://"+srv.Addr().String()+"/metrics"); !strings.Contains(body, "peerbridge_gateway_fleet_up 1") {
		t.Fatalf("metrics with the fleet up lack peerbridge_gateway_fleet_up 1:\n%s", body)
	}
	ns.Shutdown()
	ns.WaitForShutdown()
	deadline := time.Now().Add(10 * time.Second)
	for g.FleetErr() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if code, body := get(t, "http://"+srv.Addr().String()+"/healthz"); code != 503 || !strings.Contains(body, "fleet") {
		t.Fatalf("healthz with the fleet lost: %d %s", code, body)
	}
	if _, body := get(t, "http://"+srv.Addr().String()+"/metrics"); !strings.Contains(body, "peerbridge_gateway_fleet_up 0") {
		t.Fatalf("metrics with the fleet lost lack peerbridge_gateway_fleet_up 0")
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
