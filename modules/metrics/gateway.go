package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/peerbridge/peerbridge/natpunch/gateway"
)

// GatewayStats is what the gateway collector reads at each scrape.
type GatewayStats interface {
	Stats() gateway.Stats
}

// Gateway collects a gateway's metrics.
type Gateway struct {
	membership                                        MembershipStats // may be nil
	src                                               GatewayStats
	regs, sessions, relayBytes, relayPackets, refused *prometheus.Desc
	tcpClients, tcpAccepted, regsEnded                *prometheus.Desc
	fleetUp, fleetAsks                                *prometheus.Desc
}

// NewGateway returns the collector for the gateway src.
func NewGateway(src GatewayStats) *Gateway {
	return &Gateway{
		src:          src,
		regs:         prometheus.NewDesc("peerbridge_gateway_registrations", "Bridges registered and not expired.", nil, nil),
		sessions:     prometheus.NewDesc("peerbridge_gateway_relay_sessions", "Relay sessions open.", nil, nil),
		relayBytes:   prometheus.NewDesc("peerbridge_gateway_relay_bytes_total", "Bytes of the packets relayed.", nil, nil),
		relayPackets: prometheus.NewDesc("peerbridge_gateway_relay_packets_total", "Relay packets by result: relayed, or dropped (no such session, over a relay limit, or the send failed).", []string{"result"}, nil),
		refused: prometheus.NewDesc("peerbridge_gateway_refused_total",
			"What a limit refused, by reason: registrations_full, registrations_per_ip (the bridges at one IP address hold their share), registration_invalid, register_rate, lookup_rate, punch_rate, relay_rate, notify_rate (requests toward one node), pair_notify_rate (one key's requests toward one node), relay_sessions, relay_packets_unknown (no session, or a stranger), relay_packets_limit (over a rate or byte budget), tcp_conns (TCP relay connections over the total or per-IP bound), fleet_held_elsewhere (registrations refused or ended because --max-gateways-per-key other gateways of the fleet hold the node), fleet_unregistered (lookups in a fleet by a key not registered at this gateway), not_allowed (nodes refused in the handshake: not on --allow, no credential from a --trust account).",
			[]string{"reason"}, nil),
		tcpClients:  prometheus.NewDesc("peerbridge_gateway_tcp_clients", "Bridges connected over the TCP relay.", nil, nil),
		tcpAccepted: prometheus.NewDesc("peerbridge_gateway_tcp_accepted_total", "Bridges accepted on the TCP relay.", nil, nil),
		regsEnded: prometheus.NewDesc("peerbridge_gateway_registrations_ended_total",
			"Registrations that ended, by reason: expired (no refresh within the TTL), connection_closed (the bridge's connection to the gateway ended).",
			[]string{"reason"}, nil),
		fleetUp: prometheus.NewDesc("peerbridge_gateway_fleet_up", "1 while the gateway is connected to its fleet's NATS, 0 while it has lost it; absent for a gateway on its own.", nil, nil),
		fleetAsks: prometheus.NewDesc("peerbridge_gateway_fleet_asks_total",
			"Asks of the fleet, by result: found (a home gateway answered), missed (no gateway knew the node), failed (NATS lost, or no answer in time), served (other gateways' asks this gateway answered).",
			[]string{"result"}, nil),
	}
}

// WatchMembership counts the nodes m refused in their handshake as
// peerbridge_gateway_refused_total{reason="not_allowed"}. Call it before
// Register.
func (g *Gateway) WatchMembership(m MembershipStats) { g.membership = m }

// Register registers the collector with reg.
func (g *Gateway) Register(reg prometheus.Registerer) error {
	return register(reg, g)
}

// Describe implements prometheus.Collector.
func (g *Gateway) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.regs
	ch <- g.sessions
	ch <- g.relayBytes
	ch <- g.relayPackets
	ch <- g.refused
	ch <- g.tcpClients
	ch <- g.tcpAccepted
	ch <- g.regsEnded
	ch <- g.fleetUp
	ch <- g.fleetAsks
}

// Collect implements prometheus.Collector.
func (g *Gateway) Collect(ch chan<- prometheus.Metric) {
	s := g.src.Stats()
	ch <- prometheus.MustNewConstMetric(g.regs, prometheus.GaugeValue, float64(s.Registrations))
	ch <- prometheus.MustNewConstMetric(g.sessions, prometheus.GaugeValue, float64(s.RelaySessions))
	ch <- prometheus.MustNewConstMetric(g.relayBytes, prometheus.CounterValue, float64(s.RelayBytes))
	ch <- prometheus.MustNewConstMetric(g.relayPackets, prometheus.CounterValue, float64(s.RelayForwarded), "relayed")
	ch <- prometheus.MustNewConstMetric(g.relayPackets, prometheus.CounterValue, float64(s.RelayDropped), "dropped")
	ch <- prometheus.MustNewConstMetric(g.tcpClients, prometheus.GaugeValue, float64(s.TCPClients))
	ch <- prometheus.MustNewConstMetric(g.tcpAccepted, prometheus.CounterValue, float64(s.TCPAccepted))
	ch <- prometheus.MustNewConstMetric(g.regsEnded, prometheus.CounterValue, float64(s.RegistrationsExpired), "expired")
	ch <- prometheus.MustNewConstMetric(g.regsEnded, prometheus.CounterValue, float64(s.RegistrationsGone), "connection_closed")
	for _, r := range []struct {
		reason string
		n      uint64
	}{
		{"registrations_full", s.RegistrationsRefused}, {"registrations_per_ip", s.RegistrationsRefusedIP},
		{"registration_invalid", s.RegistrationsInvalid},
		{"register_rate", s.RegisterLimited}, {"lookup_rate", s.LookupLimited}, {"punch_rate", s.PunchLimited},
		{"relay_rate", s.RelayLimited}, {"notify_rate", s.NotifyLimited}, {"pair_notify_rate", s.PairLimited}, {"relay_sessions", s.RelaySessionsRefused},
		{"relay_packets_unknown", s.RelayDroppedUnknown}, {"relay_packets_limit", s.RelayDroppedLimit},
		{"tcp_conns", s.TCPRefused},
		{"fleet_held_elsewhere", s.RegistrationsHeldElsewhere}, {"fleet_unregistered", s.LookupsUnregistered},
	} {
		ch <- prometheus.MustNewConstMetric(g.refused, prometheus.CounterValue, float64(r.n), r.reason)
	}
	if s.InFleet {
		g.collectFleet(ch, s)
	}
	if g.membership != nil {
		ch <- prometheus.MustNewConstMetric(g.refused, prometheus.CounterValue, float64(g.membership.Stats().Refused), "not_allowed")
	}
}

func (g *Gateway) collectFleet(ch chan<- prometheus.Metric, s gateway.Stats) {
	up := 0.0
	if s.FleetUp {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(g.fleetUp, prometheus.GaugeValue, up)
	for _, r := range []struct {
		result string
		n      uint64
	}{{"found", s.FleetFound}, {"missed", s.FleetMissed}, {"failed", s.FleetFailed}, {"served", s.FleetServed}} {
		ch <- prometheus.MustNewConstMetric(g.fleetAsks, prometheus.CounterValue, float64(r.n), r.result)
	}
}
