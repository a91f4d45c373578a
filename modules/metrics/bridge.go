package metrics

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/membership"
)

// Peers is what the bridge collector reads from the connector at each
// scrape.
type Peers interface {
	Peers() []connector.PeerInfo
	Stats() connector.Stats
}

// paths are the values of the path label, each reported even at zero so
// that queries dividing one by another have both sides.
var paths = [...]connector.Path{connector.PathDirect, connector.PathPunched, connector.PathRelayed}

// Bridge collects a bridge daemon's metrics. Register it with Register,
// feed it the connector's events with Event, install it as the bridge's
// Observer, and give it the bridge with WatchBridge.
type Bridge struct {
	src   Peers
	state *bridgeState

	opened, closed *prometheus.CounterVec
	changes        *prometheus.CounterVec
	errors         *prometheus.CounterVec
	duration       prometheus.Histogram

	peersDesc, msgsDesc, bytesDesc, payloadDesc, dialsDesc, dialFailDesc, evictDesc *prometheus.Desc
	refusedDesc, inboundConnsDesc, frameBytesDesc                                   *prometheus.Desc

	membership MembershipStats          // may be nil
	gateways   map[identity.NodeID]bool // not peers; set before Register
	gwDesc     *prometheus.Desc

	mu          sync.Mutex          // guards closedBytes and lastBytes
	closedBytes map[bytesKey]uint64 // carried by connections that closed
	lastBytes   map[bytesKey]uint64 // last reported, so the counter never goes back
}

var _ bridge.Observer = (*Bridge)(nil)

// MembershipStats is what the collectors read of who may connect.
type MembershipStats interface {
	Stats() membership.Stats
}

// WatchMembership counts the nodes m refused in their handshake as
// peerbridge_refused_total{limit="not_allowed"}. Call it before Register.
func (b *Bridge) WatchMembership(m MembershipStats) { b.membership = m }

// bytesKey labels peerbridge_bytes_total.
type bytesKey struct {
	direction string
	path      connector.Path
}

// NewBridge returns the collector for a daemon whose connector is src.
func NewBridge(src Peers) *Bridge {
	b := &Bridge{
		src:         src,
		state:       newBridgeState(),
		closedBytes: make(map[bytesKey]uint64),
		lastBytes:   make(map[bytesKey]uint64),
		opened: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "peerbridge_connections_opened_total", Help: "Peer connections established, by path.",
		}, []string{"path"}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "peerbridge_connections_closed_total", Help: "Peer connections ended, by path.",
		}, []string{"path"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "peerbridge_path_changes_total", Help: "Peers whose pooled connection moved from one path to another.",
		}, []string{"from", "to"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "peerbridge_errors_total", Help: "Outbound messages and requests that failed, one per peer, by NATS micro error code (codes bridges do not answer with themselves: other).",
		}, []string{"code"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "peerbridge_request_duration_seconds", Help: "Time from an outbound request's forwarding to its peer's answer or its failure.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		peersDesc:    prometheus.NewDesc("peerbridge_peers", "Pooled peer connections, by path (gateways not included).", []string{"path"}, nil),
		gwDesc:       prometheus.NewDesc("peerbridge_gateways_connected", "Configured gateways with a pooled connection.", nil, nil),
		msgsDesc:     prometheus.NewDesc("peerbridge_messages_total", "Messages, requests and replies carried to (out) and from (in) peers.", []string{"direction"}, nil),
		bytesDesc:    prometheus.NewDesc("peerbridge_bytes_total", "Bytes on peer connections, QUIC overhead included, by direction and path.", []string{"direction", "path"}, nil),
		payloadDesc:  prometheus.NewDesc("peerbridge_payload_bytes_total", "Payload bytes of the messages carried, by direction.", []string{"direction"}, nil),
		dialsDesc:    prometheus.NewDesc("peerbridge_dials_total", "QUIC dials to peers.", nil, nil),
		dialFailDesc: prometheus.NewDesc("peerbridge_dial_failures_total", "QUIC dials to peers that failed.", nil, nil),
		evictDesc:    prometheus.NewDesc("peerbridge_evictions_total", "Peer connections closed for idleness.", nil, nil),
		refusedDesc: prometheus.NewDesc("peerbridge_refused_total",
			"What peers asked for and a limit refused: connections over --max-conns (conns), --max-conns-per-ip (conns_per_ip), --max-conns-per-peer (conns_per_peer); streams over the process's stream limit (streams); requests answered 503 busy (requests); frames that got no memory (frame_budget) or did not arrive within --frame-timeout (frame_timeout); peers cut off for leaving messages unacknowledged (ack_timeout); nodes refused in the handshake because they are not allowed (not_allowed).",
			[]string{"limit"}, nil),
		inboundConnsDesc: prometheus.NewDesc("peerbridge_inbound_connections", "Inbound peer connections holding a slot of --max-conns.", nil, nil),
		frameBytesDesc:   prometheus.NewDesc("peerbridge_frame_bytes", "Bytes held by frames still arriving from peers, against --frame-budget.", nil, nil),
	}
	for _, p := range paths {
		b.opened.WithLabelValues(string(p))
		b.closed.WithLabelValues(string(p))
		for _, to := range paths {
			if to != p {
				b.changes.WithLabelValues(string(p), string(to)) // every series from the start, at zero
			}
		}
	}
	for _, c := range knownCodes {
		b.errors.WithLabelValues(codeLabel(c))
	}
	b.errors.WithLabelValues(codeOther)
	return b
}

// WatchGateways tells the collector which nodes are gateways: their
// connections are counted in peerbridge_gateways_connected, not as peers.
// Call it before Register.
func (b *Bridge) WatchGateways(ids []identity.NodeID) {
	b.gateways = make(map[identity.NodeID]bool, len(ids))
	for _, id := range ids {
		b.gateways[id] = true
	}
}

// Register registers the collector with reg.
func (b *Bridge) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{b, b.opened, b.closed, b.changes, b.errors, b.duration} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	return nil
}

// Event counts a connector event; install it with Connector.SetEvents.
func (b *Bridge) Event(e connector.Event) {
	switch e.Kind {
	case connector.EventOpened:
		b.opened.WithLabelValues(string(e.Path)).Inc()
	case connector.EventPathChanged:
		b.changes.WithLabelValues(string(e.From), string(e.Path)).Inc()
	case connector.EventClosed:
		b.closed.WithLabelValues(string(e.Path)).Inc()
		b.mu.Lock()
		b.closedBytes[bytesKey{"in", e.Path}] += e.BytesIn
		b.closedBytes[bytesKey{"out", e.Path}] += e.BytesOut
		b.mu.Unlock()
	}
}

// Failed implements bridge.Observer.
// Codes other than the bridge's own count as "other".
func (b *Bridge) Failed(f bridge.Failure) { b.errors.WithLabelValues(codeLabel(f.Code)).Inc() }

// Requested implements bridge.Observer.
func (b *Bridge) Requested(d time.Duration, _ int) { b.duration.Observe(d.Seconds()) }

// Describe implements prometheus.Collector for the metrics read at scrape.
func (b *Bridge) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{b.peersDesc, b.gwDesc, b.msgsDesc, b.bytesDesc, b.payloadDesc, b.dialsDesc, b.dialFailDesc, b.evictDesc, b.refusedDesc, b.inboundConnsDesc, b.frameBytesDesc} {
		ch <- d
	}
	b.state.describe(ch)
}

// Collect implements prometheus.Collector: it reads the connector's
// snapshots.
func (b *Bridge) Collect(ch chan<- prometheus.Metric) {
	peers := b.src.Peers()
	pooled := make(map[connector.Path]int, len(paths))
	gateways := 0
	for _, p := range peers {
		switch {
		case !p.Pooled:
		case b.gateways[p.Node]:
			gateways++
		default:
			pooled[p.Path]++
		}
	}
	for _, p := range paths {
		ch <- prometheus.MustNewConstMetric(b.peersDesc, prometheus.GaugeValue, float64(pooled[p]), string(p))
	}
	ch <- prometheus.MustNewConstMetric(b.gwDesc, prometheus.GaugeValue, float64(gateways))
	for k, v := range b.bytes(peers) {
		ch <- prometheus.MustNewConstMetric(b.bytesDesc, prometheus.CounterValue, float64(v), k.direction, string(k.path))
	}
	s := b.src.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(b.msgsDesc, s.MessagesOut, "out")
	counter(b.msgsDesc, s.MessagesIn, "in")
	counter(b.payloadDesc, s.BytesOut, "out")
	counter(b.payloadDesc, s.BytesIn, "in")
	counter(b.dialsDesc, s.Dials)
	counter(b.dialFailDesc, s.DialFailures)
	counter(b.evictDesc, s.Evictions)
	for _, r := range []struct {
		limit string
		n     uint64
	}{
		{"conns", s.RefusedConns}, {"conns_per_ip", s.RefusedConnsPerIP}, {"conns_per_peer", s.RefusedConnsPerPeer},
		{"streams", s.RefusedStreams}, {"requests", s.RefusedRequests},
		{"frame_budget", s.FrameBudgetRefusals}, {"frame_timeout", s.FrameDeadlineResets},
		{"ack_timeout", s.SlowPeers},
	} {
		counter(b.refusedDesc, r.n, r.limit)
	}
	if b.membership != nil {
		counter(b.refusedDesc, b.membership.Stats().Refused, "not_allowed")
	}
	ch <- prometheus.MustNewConstMetric(b.inboundConnsDesc, prometheus.GaugeValue, float64(s.InboundConns))
	ch <- prometheus.MustNewConstMetric(b.frameBytesDesc, prometheus.GaugeValue, float64(s.FrameBytes))
	b.state.collect(ch)
}

// bytes returns peerbridge_bytes_total: what closed connections carried
// plus what the live ones have carried so far. A connection counted neither
// live nor closed for an instant (the connector forgets it before it reports
// it closed) would make the sum dip, so each value is at least the last one
// reported.
func (b *Bridge) bytes(live []connector.PeerInfo) map[bytesKey]uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[bytesKey]uint64, 2*len(paths))
	for _, p := range paths {
		out[bytesKey{"in", p}] = b.closedBytes[bytesKey{"in", p}]
		out[bytesKey{"out", p}] = b.closedBytes[bytesKey{"out", p}]
	}
	for _, p := range live {
		out[bytesKey{"in", p.Path}] += p.BytesIn
		out[bytesKey{"out", p.Path}] += p.BytesOut
	}
	for k, v := range out {
		v = max(v, b.lastBytes[k])
		out[k], b.lastBytes[k] = v, v
	}
	return out
}
