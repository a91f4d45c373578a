package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/peerbridge/peerbridge/natpunch"
)

// TCPRelayStats is what the TCP relay collector reads at each scrape.
type TCPRelayStats interface {
	TCPStats() natpunch.TCPStats
}

// TCPRelay collects a bridge's TCP relay state: whether it reaches its
// gateway over TCP, and its moves between UDP and TCP.
type TCPRelay struct {
	src                   TCPRelayStats
	active, move, dropped *prometheus.Desc
}

// NewTCPRelay returns the collector for the bridge's NAT traversal src.
func NewTCPRelay(src TCPRelayStats) *TCPRelay {
	return &TCPRelay{
		src:     src,
		active:  prometheus.NewDesc("peerbridge_tcp_relay_active", "1 while the bridge reaches its gateway over the TCP relay because UDP gets no answer, else 0.", nil, nil),
		move:    prometheus.NewDesc("peerbridge_tcp_relay_moves_total", "Moves between UDP and the TCP relay, by where to: tcp or udp.", []string{"to"}, nil),
		dropped: prometheus.NewDesc("peerbridge_tcp_relay_dropped_total", "Relay packets dropped because the TCP relay connection could not take them.", nil, nil),
	}
}

// Register registers the collector with reg.
func (t *TCPRelay) Register(reg prometheus.Registerer) error {
	return register(reg, t)
}

// Describe implements prometheus.Collector.
func (t *TCPRelay) Describe(ch chan<- *prometheus.Desc) {
	ch <- t.active
	ch <- t.move
	ch <- t.dropped
}

// Collect implements prometheus.Collector.
func (t *TCPRelay) Collect(ch chan<- prometheus.Metric) {
	s := t.src.TCPStats()
	active := 0.0
	if s.Active {
		active = 1
	}
	ch <- prometheus.MustNewConstMetric(t.active, prometheus.GaugeValue, active)
	ch <- prometheus.MustNewConstMetric(t.move, prometheus.CounterValue, float64(s.Fallbacks), "tcp")
	ch <- prometheus.MustNewConstMetric(t.move, prometheus.CounterValue, float64(s.Returns), "udp")
	ch <- prometheus.MustNewConstMetric(t.dropped, prometheus.CounterValue, float64(s.Dropped))
}
