package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/peerbridge/peerbridge/modules/admin"
)

type fixedHTTPStats admin.Stats

func (f fixedHTTPStats) Stats() admin.Stats { return admin.Stats(f) }

func TestHTTPCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := NewHTTP(fixedHTTPStats{Conns: 3, Refused: 2, IdleClosed: 7}).Register(reg); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP peerbridge_http_connections Connections open to /metrics and /healthz, against --http-max-conns.
# TYPE peerbridge_http_connections gauge
peerbridge_http_connections 3
# HELP peerbridge_http_idle_closed_total Idle connections to /metrics and /healthz closed to make room for a new one at --http-max-conns.
# TYPE peerbridge_http_idle_closed_total counter
peerbridge_http_idle_closed_total 7
# HELP peerbridge_http_refused_total Connections to /metrics and /healthz closed at once: --http-max-conns were open, all serving.
# TYPE peerbridge_http_refused_total counter
peerbridge_http_refused_total 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}
