package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
)

type noPeers struct{}

func (noPeers) Peers() []connector.PeerInfo { return nil }
func (noPeers) Stats() connector.Stats      { return connector.Stats{} }

type fixedBridgeStats bridge.Stats

func (f fixedBridgeStats) Stats() bridge.Stats { return bridge.Stats(f) }

// TestDroppedByReason: the bridge's dropped messages are exported by
// reason, every reason present even at zero.
func TestDroppedByReason(t *testing.T) {
	m := NewBridge(noPeers{})
	m.WatchBridge(fixedBridgeStats{Dropped: bridge.Dropped{QueueFull: 3, PeerUnreachable: 2, DeliveryUnknown: 1}})
	reg := prometheus.NewRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP peerbridge_dropped_total Outbound messages without a reply subject that failed, one per peer, by reason: queue_full, peer_unreachable, timeout, delivery_unknown (the connection was lost after writing: it may have arrived), stopped, refused. Counted in peerbridge_outbound_total{result="failed"} too.
# TYPE peerbridge_dropped_total counter
peerbridge_dropped_total{reason="delivery_unknown"} 1
peerbridge_dropped_total{reason="peer_unreachable"} 2
peerbridge_dropped_total{reason="queue_full"} 3
peerbridge_dropped_total{reason="refused"} 0
peerbridge_dropped_total{reason="stopped"} 0
peerbridge_dropped_total{reason="timeout"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "peerbridge_dropped_total"); err != nil {
		t.Error(err)
	}
}
