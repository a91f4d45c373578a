package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/peerbridge/peerbridge/bridge"
)

// BridgeStats is what the collector reads from the bridge at each scrape.
type BridgeStats interface {
	Stats() bridge.Stats
}

// bridgeState is the bridge's part of the collector: the bridge exists only
// once the daemon has started, so it is set then.
type bridgeState struct {
	src                             atomic.Pointer[BridgeStats]
	inFlight, inbound, out, dropped *prometheus.Desc
}

func newBridgeState() *bridgeState {
	return &bridgeState{
		inFlight: prometheus.NewDesc("peerbridge_in_flight", "Outbound requests waiting for their peers and outbound messages waiting for acknowledgement.", nil, nil),
		inbound:  prometheus.NewDesc("peerbridge_inbound_total", "Messages and requests from peers, by result: delivered to NATS, or failed (the peer got the error).", []string{"result"}, nil),
		out:      prometheus.NewDesc("peerbridge_outbound_total", "Outbound messages and requests, one per peer, by result: forwarded (acknowledged or answered) or failed.", []string{"result"}, nil),
		dropped: prometheus.NewDesc("peerbridge_dropped_total",
			"Outbound messages without a reply subject that failed, one per peer, by reason: queue_full, peer_unreachable, timeout, delivery_unknown (the connection was lost after writing: it may have arrived), stopped, refused. Counted in peerbridge_outbound_total{result=\"failed\"} too.",
			[]string{"reason"}, nil),
	}
}

// WatchBridge makes the collector report b's counters from now on.
func (b *Bridge) WatchBridge(src BridgeStats) { b.state.src.Store(&src) }

func (s *bridgeState) describe(ch chan<- *prometheus.Desc) {
	ch <- s.inFlight
	ch <- s.inbound
	ch <- s.out
	ch <- s.dropped
}

func (s *bridgeState) collect(ch chan<- prometheus.Metric) {
	p := s.src.Load()
	if p == nil {
		return
	}
	st := (*p).Stats()
	ch <- prometheus.MustNewConstMetric(s.inFlight, prometheus.GaugeValue, float64(st.InFlight))
	ch <- prometheus.MustNewConstMetric(s.inbound, prometheus.CounterValue, float64(st.Inbound), "delivered")
	ch <- prometheus.MustNewConstMetric(s.inbound, prometheus.CounterValue, float64(st.InboundFailed), "failed")
	ch <- prometheus.MustNewConstMetric(s.out, prometheus.CounterValue, float64(st.Forwarded), "forwarded")
	ch <- prometheus.MustNewConstMetric(s.out, prometheus.CounterValue, float64(st.Failed), "failed")
	for _, d := range st.Dropped.ByReason() {
		ch <- prometheus.MustNewConstMetric(s.dropped, prometheus.CounterValue, float64(d.N), d.Reason)
	}
}
