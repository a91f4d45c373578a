package hostile

import (
	"context"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// TestNATDirectDialSkipsClaims is issue 18, row 5: a key registered 8
// local addresses on no subnet of the victim, and every send of the
// victim's to that key dialled all of them (16 datagrams per send) before
// its observed address answered. The direct dial now goes only to the
// observed address and to claims on the victim's own subnets, as the punch
// does: the claimed sinks (loopback addresses, on no subnet of the victim's
// interfaces) get nothing, and the send still arrives.
func TestNATDirectDialSkipsClaims(t *testing.T) {
	g := natGateway(t, gateway.Config{})
	victim, vcl := natBridge(t, g, natpunch.ClientConfig{})
	attacker := connectortest.Start(t, connector.Config{}, connectortest.Accepting())
	var local []string
	var sinks []*natSink
	for range gateway.DefaultMaxLocalAddrs {
		s := natNewSink(t)
		sinks = append(sinks, s)
		local = append(local, s.addr().String())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	// Claiming a NAT that admits anyone makes the victim dial directly.
	if err := natRegister(ctx, attacker, g, local, wire.FilteringIndependent); err != nil {
		t.Fatal(err)
	}
	if err := victim.Send(ctx, connector.Outbound{Target: connector.Target{NodeID: attacker.NodeID()}, Type: "x"}); err != nil {
		t.Fatalf("the victim's send to the key: %v", err)
	}
	// Datagrams to the sinks, if any were sent, arrive within moments.
	datagrams := natSettle(func() int64 {
		var n int64
		for _, s := range sinks {
			n += s.datagrams.Load()
		}
		return n
	}, 500*time.Millisecond, 5*time.Second)
	t.Logf("%d datagrams at the %d claimed addresses; victim punch stats %+v", datagrams, len(sinks), vcl.PunchStats())
	if datagrams != 0 {
		t.Errorf("the victim sent %d datagrams to addresses the key only claimed", datagrams)
	}
	if n := vcl.PunchStats().AddrsRefused; n < uint64(len(sinks)) {
		t.Errorf("%d claimed addresses left out and counted, want at least %d", n, len(sinks))
	}
}
