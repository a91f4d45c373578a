package modules

import (
	"errors"
	"net"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestHealthCoversTheBridgesConnection: /healthz's NATS check fails while
// the bridge's own connection is down, even with nats.go's up.
func TestHealthCoversTheBridgesConnection(t *testing.T) {
	ns, err := StartEmbedded("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	n := &NATS{Conn: nc, Server: ns}
	var down error
	n.watchHotPath(func() error { return down })
	tests := []struct {
		name    string
		hot     error
		healthy bool
	}{
		{"both up", nil, true},
		{"the bridge's connection lost", errors.New("connection lost"), false},
		{"re-established", nil, true},
	}
	for _, tt := range tests {
		down = tt.hot
		if err := n.healthy(); (err == nil) != tt.healthy {
			t.Errorf("%s: healthy() = %v", tt.name, err)
		}
	}
}

// TestDialLoopback: the bridge's dialer reaches an embedded server that
// listens on every address through loopback.
func TestDialLoopback(t *testing.T) {
	ns, err := StartEmbedded("0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	c, err := dialLoopback(ns.Addr())(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.RemoteAddr().(*net.TCPAddr); !got.IP.IsLoopback() {
		t.Errorf("dialed %v, want loopback", got)
	}
}
