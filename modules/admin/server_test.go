package admin

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	r, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r.StatusCode, string(b)
}

// TestHealthzAndMetrics: /healthz follows its check both ways and /metrics
// serves the registry.
func TestHealthzAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_things_total", Help: "Things."})
	reg.MustRegister(c)
	c.Add(3)
	var down atomic.Bool
	s, err := New(Config{Addr: "127.0.0.1:0", Gatherer: reg, Checks: []Check{{Name: "nats", Fn: func() error {
		if down.Load() {
			return errors.New("not connected")
		}
		return nil
	}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base := "http://" + s.Addr().String()

	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthy: %d %q", code, body)
	}
	down.Store(true)
	if code, body := get(t, base+"/healthz"); code != 503 || body != "nats: not connected\n" {
		t.Errorf("unhealthy: %d %q", code, body)
	}
	if code, body := get(t, base+"/metrics"); code != 200 || !strings.Contains(body, "test_things_total 3\n") {
		t.Errorf("metrics: %d %q", code, body)
	}
}

func TestBadConfig(t *testing.T) {
	if _, err := New(Config{}, nil); err == nil {
		t.Error("an empty config was accepted")
	}
	s, err := New(Config{Addr: "nonsense", Gatherer: prometheus.NewRegistry()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err == nil || !strings.HasPrefix(err.Error(), "admin: ") {
		s.Close()
		t.Errorf("listening on nonsense: %v", err)
	}
}
