package metrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/connector/identity"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startConnector starts a real connector on loopback, closed at the end of
// the test, whose handler accepts every message.
func startConnector(t *testing.T) *connector.Connector {
	return connectortest.Start(t, connector.Config{}, connectortest.Accepting())
}

// TestBridgeMetricsAfterTraffic: a request over a direct connection shows in
// the path gauge, the opened counter, the message and byte counters, and the
// observer's errors and durations.
func TestBridgeMetricsAfterTraffic(t *testing.T) {
	a, b := startConnector(t), startConnector(t)
	m := NewBridge(a)
	a.SetEvents(m.Event)
	reg := NewRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: b.NodeID(), Endpoint: b.Addr().String()}, Type: "x", Payload: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	m.Requested(3*time.Millisecond, 0)
	m.Failed(bridge.Failure{Code: 503, Text: "unreachable"})
	m.Failed(bridge.Failure{Code: 503, Text: "unreachable"})

	want := `
# HELP peerbridge_connections_opened_total Peer connections established, by path.
# TYPE peerbridge_connections_opened_total counter
peerbridge_connections_opened_total{path="direct"} 1
peerbridge_connections_opened_total{path="punched"} 0
peerbridge_connections_opened_total{path="relayed"} 0
# HELP peerbridge_errors_total Outbound messages and requests that failed, one per peer, by NATS micro error code (codes bridges do not answer with themselves: other).
# TYPE peerbridge_errors_total counter
peerbridge_errors_total{code="400"} 0
peerbridge_errors_total{code="403"} 0
peerbridge_errors_total{code="404"} 0
peerbridge_errors_total{code="413"} 0
peerbridge_errors_total{code="429"} 0
peerbridge_errors_total{code="500"} 0
peerbridge_errors_total{code="502"} 0
peerbridge_errors_total{code="503"} 2
peerbridge_errors_total{code="504"} 0
peerbridge_errors_total{code="other"} 0
# HELP peerbridge_messages_total Messages, requests and replies carried to (out) and from (in) peers.
# TYPE peerbridge_messages_total counter
peerbridge_messages_total{direction="in"} 1
peerbridge_messages_total{direction="out"} 1
# HELP peerbridge_peers Pooled peer connections, by path (gateways not included).
# TYPE peerbridge_peers gauge
peerbridge_peers{path="direct"} 1
peerbridge_peers{path="punched"} 0
peerbridge_peers{path="relayed"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"peerbridge_connections_opened_total", "peerbridge_errors_total", "peerbridge_messages_total", "peerbridge_peers"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.duration); n != 1 {
		t.Errorf("request duration histogram has %d series", n)
	}
	before := bytesOut(t, m)
	if before == 0 {
		t.Error("no bytes out on the direct path")
	}
	b.Close() // a's connection closes; its bytes move from live to closed
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(m.closed.WithLabelValues("direct")) != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling for the close event, bounded by the deadline
	}
	if after := bytesOut(t, m); after < before {
		t.Errorf("bytes out went from %v to %v after the connection closed", before, after)
	}
}

// bytesOut returns peerbridge_bytes_total{direction="out",path="direct"}.
func bytesOut(t *testing.T, m *Bridge) float64 {
	t.Helper()
	for k, v := range m.bytes(m.src.Peers()) {
		if k == (bytesKey{"out", connector.PathDirect}) {
			return float64(v)
		}
	}
	t.Fatal("no direct out series")
	return 0
}

// TestPathChangeIsCounted: a path change event counts under its two paths.
func TestPathChangeIsCounted(t *testing.T) {
	m := NewBridge(startConnector(t))
	m.Event(connector.Event{Kind: connector.EventPathChanged, From: connector.PathRelayed, Path: connector.PathPunched})
	if v := testutil.ToFloat64(m.changes.WithLabelValues("relayed", "punched")); v != 1 {
		t.Errorf("path changes relayed -> punched = %v", v)
	}
}

// TestGatewaysAreNotPeers (issue 23): a connection to a configured gateway
// counts in peerbridge_gateways_connected, not in peerbridge_peers, and the
// path change series exist from the start, at zero.
func TestGatewaysAreNotPeers(t *testing.T) {
	a, gw := startConnector(t), startConnector(t)
	m := NewBridge(a)
	m.WatchGateways([]identity.NodeID{gw.NodeID()})
	reg := NewRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: gw.NodeID(), Endpoint: gw.Addr().String()}, Type: "x"}); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP peerbridge_gateways_connected Configured gateways with a pooled connection.
# TYPE peerbridge_gateways_connected gauge
peerbridge_gateways_connected 1
# HELP peerbridge_peers Pooled peer connections, by path (gateways not included).
# TYPE peerbridge_peers gauge
peerbridge_peers{path="direct"} 0
peerbridge_peers{path="punched"} 0
peerbridge_peers{path="relayed"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "peerbridge_gateways_connected", "peerbridge_peers"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.changes); n != 6 {
		t.Errorf("%d path change series before any change, want 6", n)
	}
}
