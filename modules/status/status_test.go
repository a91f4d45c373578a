package status

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"go.uber.org/goleak"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/connector/identity"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func startNATS(t *testing.T) *nats.Conn {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func startConnector(t *testing.T) *connector.Connector {
	return connectortest.Start(t, connector.Config{}, connectortest.Accepting())
}

func register(t *testing.T, nc *nats.Conn, c *connector.Connector) {
	t.Helper()
	svc, err := Register(nc, ServiceConfig{Node: string(c.NodeID()), Version: "1.2.3"}, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Stop() })
}

// TestDiscoverFindsBridgesAndPeers: two bridges on one NATS, one connected
// to the other, answer PING and INFO and show each other as peers.
func TestDiscoverFindsBridgesAndPeers(t *testing.T) {
	nc := startNATS(t)
	a, b := startConnector(t), startConnector(t)
	register(t, nc, a)
	register(t, nc, b)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: b.NodeID(), Endpoint: b.Addr().String()}, Type: "x"}); err != nil {
		t.Fatal(err)
	}

	// $SRV.PING.peerbridge, as nats micro ls asks it.
	m, err := nc.Request("$SRV.PING.peerbridge", nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var ping micro.Ping
	if err := json.Unmarshal(m.Data, &ping); err != nil || ping.Name != "peerbridge" || ping.Metadata["node"] == "" {
		t.Errorf("ping answer %s: %v", m.Data, err)
	}

	dctx, dcancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer dcancel()
	bridges, err := Discover(dctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	if len(bridges) != 2 {
		t.Fatalf("found %d bridges: %+v", len(bridges), bridges)
	}
	for _, br := range bridges {
		want := map[string]string{string(a.NodeID()): string(b.NodeID()), string(b.NodeID()): string(a.NodeID())}[br.Node]
		if br.Error != "" || br.Version != "1.2.3" || len(br.Peers) != 1 {
			t.Fatalf("bridge %+v", br)
		}
		p := br.Peers[0]
		if p.Node != want || p.Path != "direct" || p.Endpoint == "" || p.BytesIn == 0 || p.BytesOut == 0 || p.Since.IsZero() || p.AgeSeconds < 0 {
			t.Errorf("bridge %s peer %+v", br.Node, p)
		}
	}
	var out bytes.Buffer
	if err := WriteTable(&out, bridges); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"bridge " + string(a.NodeID()), "bridge " + string(b.NodeID()), "NODE", "direct", b.Addr().String()} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
}

func TestDiscoverFindsNone(t *testing.T) {
	nc := startNATS(t)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := Discover(ctx, nc); !errors.Is(err, ErrNoBridges) {
		t.Errorf("err %v, want ErrNoBridges", err)
	}
}

func TestRegisterRefusesBadNode(t *testing.T) {
	nc := startNATS(t)
	for _, node := range []string{"", "a.b", "x>"} {
		if _, err := Register(nc, ServiceConfig{Node: node}, nil); err == nil {
			t.Errorf("node %q accepted", node)
		}
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 3 << 20: "3.0 MiB"} {
		if got := size(n); got != want {
			t.Errorf("size(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestServiceVersion(t *testing.T) {
	for in, want := range map[string]string{"v1.2.3": "1.2.3", "(devel)": "0.0.0", "": "0.0.0", "v0.0.0-20261125154333-3682ac2f1ab1+dirty": "0.0.0-20261125154333-3682ac2f1ab1+dirty"} {
		if got := ServiceVersion(in); got != want {
			t.Errorf("ServiceVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPeerFiguresAreRounded: a peer's age and RTT come out in JSON to the
// millisecond and microsecond, without float noise (1.598, not
// 1.5979999999999999).
func TestPeerFiguresAreRounded(t *testing.T) {
	now := time.Unix(1000, 0)
	infos := []connector.PeerInfo{{Node: "n", Pooled: true, RTT: 761234 * time.Nanosecond, Since: now.Add(-1598000001 * time.Nanosecond)}}
	b, err := json.Marshal(peersOf(infos, now, func(identity.NodeID) string { return "open" }, nil)[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"rtt_ms":0.761,`, `"age_s":1.598,`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("peer %s lacks %s", b, want)
		}
	}
}

// TestGatewaysAreMarked: a gateway's connection is listed with gateway set
// and counted apart from the peers, in JSON and in the table.
func TestGatewaysAreMarked(t *testing.T) {
	now := time.Unix(1000, 0)
	infos := []connector.PeerInfo{{Node: "gw", Pooled: true, Path: "direct", Since: now}, {Node: "p", Pooled: true, Path: "punched", Since: now}}
	peers := peersOf(infos, now, func(identity.NodeID) string { return "" }, []identity.NodeID{"gw"})
	if !peers[0].Gateway || peers[1].Gateway {
		t.Fatalf("gateway flags %v, %v; want true, false", peers[0].Gateway, peers[1].Gateway)
	}
	var out strings.Builder
	if err := WriteTable(&out, []Bridge{{Node: "b", Version: "1.0.0", Peers: peers}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(version 1.0.0, 1 peer, 1 gateway)", "direct (gateway)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}
