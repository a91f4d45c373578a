package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/peerbridge/peerbridge/modules/admin"
	"github.com/peerbridge/peerbridge/natpunch"
)

type fixedTCPStats natpunch.TCPStats

func (f fixedTCPStats) TCPStats() natpunch.TCPStats { return natpunch.TCPStats(f) }

type fixedHTTPStats admin.Stats

func (f fixedHTTPStats) Stats() admin.Stats { return admin.Stats(f) }

// TestScrapedCollectors: the collectors that read a component's stats at
// each scrape export them under their names.
func TestScrapedCollectors(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    interface {
			Register(prometheus.Registerer) error
		}
		want string
	}{
		{"tcp relay", NewTCPRelay(fixedTCPStats{Active: true, Fallbacks: 2, Returns: 1, Dropped: 3}), `
# HELP peerbridge_tcp_relay_active 1 while the bridge reaches its gateway over the TCP relay because UDP gets no answer, else 0.
# TYPE peerbridge_tcp_relay_active gauge
peerbridge_tcp_relay_active 1
# HELP peerbridge_tcp_relay_dropped_total Relay packets dropped because the TCP relay connection could not take them.
# TYPE peerbridge_tcp_relay_dropped_total counter
peerbridge_tcp_relay_dropped_total 3
# HELP peerbridge_tcp_relay_moves_total Moves between UDP and the TCP relay, by where to: tcp or udp.
# TYPE peerbridge_tcp_relay_moves_total counter
peerbridge_tcp_relay_moves_total{to="tcp"} 2
peerbridge_tcp_relay_moves_total{to="udp"} 1
`},
		{"http", NewHTTP(fixedHTTPStats{Conns: 3, Refused: 2, IdleClosed: 7}), `
# HELP peerbridge_http_connections Connections open to /metrics and /healthz, against --http-max-conns.
# TYPE peerbridge_http_connections gauge
peerbridge_http_connections 3
# HELP peerbridge_http_idle_closed_total Idle connections to /metrics and /healthz closed to make room for a new one at --http-max-conns.
# TYPE peerbridge_http_idle_closed_total counter
peerbridge_http_idle_closed_total 7
# HELP peerbridge_http_refused_total Connections to /metrics and /healthz closed at once: --http-max-conns were open, all serving.
# TYPE peerbridge_http_refused_total counter
peerbridge_http_refused_total 2
`},
	} {
		reg := prometheus.NewRegistry()
		if err := tc.c.Register(reg); err != nil {
			t.Fatal(err)
		}
		if err := testutil.GatherAndCompare(reg, strings.NewReader(tc.want)); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
