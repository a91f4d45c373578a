package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/peerbridge/peerbridge/natpunch"
)

type fixedTCPStats natpunch.TCPStats

func (f fixedTCPStats) TCPStats() natpunch.TCPStats { return natpunch.TCPStats(f) }

func TestTCPRelayCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := NewTCPRelay(fixedTCPStats{Active: true, Fallbacks: 2, Returns: 1, Dropped: 3}).Register(reg); err != nil {
		t.Fatal(err)
	}
	want := `
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
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}
