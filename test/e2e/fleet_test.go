package e2e_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge"
)

// TestBinaryGatewayFleet (issue 21): two `peerbridge gateway --nats-url`
// processes share one NATS; bridge A registers at the first alone, bridge
// B at the second alone, and A reaches B by node ID alone.
func TestBinaryGatewayFleet(t *testing.T) {
	bin := buildBinary(t)
	ns := runNATS(t, freePort(t))
	dir := t.TempDir()
	gateway := func(name string) string {
		p := start(t, bin, "gateway", "--key", filepath.Join(dir, name+".key"), "--listen", "127.0.0.1:0", "--nats-url", ns.ClientURL())
		return p.await(t, "gateway")["gateway"]
	}
	g1, g2 := gateway("g1"), gateway("g2")
	common := []string{"--listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0"}
	b := runDaemon(t, bin, append(common, "--key", filepath.Join(dir, "b.key"), "--gateway", g2)...)
	a := runDaemon(t, bin, append(common, "--key", filepath.Join(dir, "a.key"), "--gateway", g1)...)
	ncA, ncB := dial(t, a.nats), dial(t, b.nats)
	echo(t, ncB, "peer.recv.echo")
	// b registers at g2 as it starts, and the fleet knows it from then.
	r := requestOnceRegistered(t, ncA, b.node, "across the fleet")
	if string(r.Data) != "across the fleet" || r.Header.Get(bridge.HeaderFrom) != b.node {
		t.Errorf("reply %q from %q", r.Data, r.Header.Get(bridge.HeaderFrom))
	}
}

// TestBinaryGatewayFleetFailover (issue 21): two gateway processes in a
// fleet on a nats-server that also runs JetStream, as users' servers do; B
// registers at both. Once B is found, the first gateway's process is killed,
// and a fresh bridge configured with both gateways, the dead one first,
// reaches B with its first request: the dead gateway costs it at most one
// dial budget, not the request.
func TestBinaryGatewayFleetFailover(t *testing.T) {
	bin := buildBinary(t)
	ns := runNATSWith(t, func(o *server.Options) { o.JetStream, o.StoreDir = true, t.TempDir() })
	if !ns.JetStreamEnabled() {
		t.Fatal("JetStream is off")
	}
	dir := t.TempDir()
	gateway := func(name string) (*process, string) {
		p := start(t, bin, "gateway", "--key", filepath.Join(dir, name+".key"), "--listen", "127.0.0.1:0", "--nats-url", ns.ClientURL())
		return p, p.await(t, "gateway")["gateway"]
	}
	p1, g1 := gateway("g1")
	_, g2 := gateway("g2")
	common := []string{"--listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0"}
	b := runDaemon(t, bin, append(common, "--key", filepath.Join(dir, "b.key"), "--gateway", g1, "--gateway", g2)...)
	echo(t, dial(t, b.nats), "peer.recv.echo")

	a := runDaemon(t, bin, append(common, "--key", filepath.Join(dir, "a.key"), "--gateway", g1)...)
	ncA := dial(t, a.nats)
	requestOnceRegistered(t, ncA, b.node, "before") // b registers as it starts

	if err := p1.cmd.Process.Kill(); err != nil { // a crash, not a stop
		t.Fatal(err)
	}
	c := runDaemon(t, bin, append(common, "--key", filepath.Join(dir, "c.key"), "--gateway", g1, "--gateway", g2)...)
	begin := time.Now()
	r := request(t, dial(t, c.nats), "peer.request.echo",
		nats.Header{bridge.HeaderNode: {b.node}, bridge.HeaderTimeout: {"10s"}}, []byte("after"))
	if errCode(r) != "" || string(r.Data) != "after" {
		t.Fatalf("first request with the first gateway dead: %s %s", errCode(r), r.Header.Get(bridge.HeaderError))
	}
	t.Logf("first request of a fresh bridge with the first of its gateways dead answered in %v, path %s",
		time.Since(begin).Round(time.Millisecond), r.Header.Get(bridge.HeaderPath))
}
