package natpunch

import (
	"context"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// TestProbeOnLoopback probes a gateway started the production way (Start
// binds the filtering probe sockets itself) from a host with no NAT: both
// tests must pass.
func TestProbeOnLoopback(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{})
	_, cl := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g)}, Trace: nil}, natpunchtest.Echo())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := cl.Probe(ctx, g.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	if r.Mapping != wire.MappingIndependent || r.Filtering != wire.FilteringIndependent || r.NATType != "none" {
		t.Errorf("loopback probe: mapping %q, filtering %q, type %q", r.Mapping, r.Filtering, r.NATType)
	}
}
