package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/peerbridge/peerbridge/natpunch/portmap"
)

// PortMapState is what the port mapping collector reads at each scrape.
type PortMapState interface {
	PortMapping() (portmap.Mapping, bool)
}

// PortMap collects whether the bridge holds a port mapping on its router,
// by protocol.
type PortMap struct {
	src PortMapState
	up  *prometheus.Desc
}

// NewPortMap returns the collector for the bridge's NAT traversal src.
func NewPortMap(src PortMapState) *PortMap {
	return &PortMap{
		src: src,
		up:  prometheus.NewDesc("peerbridge_port_mapping_up", "1 for the protocol (UPnP, NAT-PMP, PCP) of the port mapping the bridge holds on its router, 0 for the others.", []string{"protocol"}, nil),
	}
}

// Register registers the collector with reg.
func (p *PortMap) Register(reg prometheus.Registerer) error {
	return register(reg, p)
}

// Describe implements prometheus.Collector.
func (p *PortMap) Describe(ch chan<- *prometheus.Desc) { ch <- p.up }

// Collect implements prometheus.Collector.
func (p *PortMap) Collect(ch chan<- prometheus.Metric) {
	m, held := p.src.PortMapping()
	for _, proto := range portmap.AllProtocols() {
		v := 0.0
		if held && m.Protocol == proto {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(p.up, prometheus.GaugeValue, v, string(proto))
	}
}
