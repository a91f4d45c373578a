package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/peerbridge/peerbridge/modules/admin"
)

// HTTPStats is what the HTTP collector reads at each scrape.
type HTTPStats interface {
	Stats() admin.Stats
}

// HTTP collects the admin server's connection counts.
type HTTP struct {
	src                       HTTPStats
	conns, refused, idleClose *prometheus.Desc
}

// NewHTTP returns the collector for the admin server src.
func NewHTTP(src HTTPStats) *HTTP {
	return &HTTP{
		src:       src,
		conns:     prometheus.NewDesc("peerbridge_http_connections", "Connections open to /metrics and /healthz, against --http-max-conns.", nil, nil),
		refused:   prometheus.NewDesc("peerbridge_http_refused_total", "Connections to /metrics and /healthz closed at once: --http-max-conns were open, all serving.", nil, nil),
		idleClose: prometheus.NewDesc("peerbridge_http_idle_closed_total", "Idle connections to /metrics and /healthz closed to make room for a new one at --http-max-conns.", nil, nil),
	}
}

// Register registers the collector with reg.
func (h *HTTP) Register(reg prometheus.Registerer) error {
	return register(reg, h)
}

// Describe implements prometheus.Collector.
func (h *HTTP) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{h.conns, h.refused, h.idleClose} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (h *HTTP) Collect(ch chan<- prometheus.Metric) {
	s := h.src.Stats()
	ch <- prometheus.MustNewConstMetric(h.conns, prometheus.GaugeValue, float64(s.Conns))
	ch <- prometheus.MustNewConstMetric(h.refused, prometheus.CounterValue, float64(s.Refused))
	ch <- prometheus.MustNewConstMetric(h.idleClose, prometheus.CounterValue, float64(s.IdleClosed))
}
