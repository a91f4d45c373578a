package e2e_test

import (
	"path/filepath"
	"testing"
	"time"

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
	// b registers at g2 as it starts; retry briefly until the fleet knows it.
	deadline := time.Now().Add(wait)
	for {
		r := request(t, ncA, "peer.request.echo", nats.Header{bridge.HeaderNode: {b.node}}, []byte("across the fleet"))
		if errCode(r) == "" {
			if string(r.Data) != "across the fleet" || r.Header.Get(bridge.HeaderFrom) != b.node {
				t.Errorf("reply %q from %q", r.Data, r.Header.Get(bridge.HeaderFrom))
			}
			break
		}
		if errCode(r) != "404" || time.Now().After(deadline) {
			t.Fatalf("request by node ID across the fleet: %s %s", errCode(r), r.Header.Get(bridge.HeaderError))
		}
		time.Sleep(20 * time.Millisecond) // b's registration has no event a can see
	}
}
