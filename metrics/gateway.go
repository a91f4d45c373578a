package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/peerbridge/peerbridge/natpunch"
)

// GatewayStats is what the gateway collector reads at each scrape.
type GatewayStats interface {
	Stats() natpunch.GatewayStats
}

// Gateway collects a gateway's metrics.
type Gateway struct {
	src                                      GatewayStats
	regs, sessions, relayBytes, relayPackets *prometheus.Desc
}

// NewGateway returns the collector for the gateway src.
func NewGateway(src GatewayStats) *Gateway {
	return &Gateway{
		src:          src,
		regs:         prometheus.NewDesc("peerbridge_gateway_registrations", "Bridges registered and not expired.", nil, nil),
		sessions:     prometheus.NewDesc("peerbridge_gateway_relay_sessions", "Relay sessions open.", nil, nil),
		relayBytes:   prometheus.NewDesc("peerbridge_gateway_relay_bytes_total", "Bytes of the packets relayed.", nil, nil),
		relayPackets: prometheus.NewDesc("peerbridge_gateway_relay_packets_total", "Relay packets by result: relayed, or dropped (no such session, over a relay limit, or the send failed).", []string{"result"}, nil),
	}
}

// Register registers the collector with reg.
func (g *Gateway) Register(reg prometheus.Registerer) error {
	if err := reg.Register(g); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// Describe implements prometheus.Collector.
func (g *Gateway) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.regs
	ch <- g.sessions
	ch <- g.relayBytes
	ch <- g.relayPackets
}

// Collect implements prometheus.Collector.
func (g *Gateway) Collect(ch chan<- prometheus.Metric) {
	s := g.src.Stats()
	ch <- prometheus.MustNewConstMetric(g.regs, prometheus.GaugeValue, float64(s.Registrations))
	ch <- prometheus.MustNewConstMetric(g.sessions, prometheus.GaugeValue, float64(s.RelaySessions))
	ch <- prometheus.MustNewConstMetric(g.relayBytes, prometheus.CounterValue, float64(s.RelayBytes))
	ch <- prometheus.MustNewConstMetric(g.relayPackets, prometheus.CounterValue, float64(s.RelayPackets), "relayed")
	ch <- prometheus.MustNewConstMetric(g.relayPackets, prometheus.CounterValue, float64(s.RelayDropped), "dropped")
}
