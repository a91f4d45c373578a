package natpunch

import (
	"net/netip"
	"testing"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// TestHeardMatchesTheHostNotThePort: a punch packet from a punched host
// ends the waits on it, from whatever port (a symmetric NAT sends from
// another one than the gateway saw); packets from other hosts do not, and
// a stopped wait leaves nothing behind.
func TestHeardMatchesTheHostNotThePort(t *testing.T) {
	peer := netip.MustParseAddrPort("198.51.100.7:4000")
	lan := netip.MustParseAddrPort("192.168.1.7:4000")
	for _, tc := range []struct {
		name  string
		from  netip.AddrPort
		heard bool
	}{
		{"the observed address", peer, true},
		{"the peer's host, another port", netip.MustParseAddrPort("198.51.100.7:5123"), true},
		{"a claimed local address", lan, true},
		{"another host", netip.MustParseAddrPort("198.51.100.8:4000"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h heard
			ch, stop := h.listen([]netip.AddrPort{peer, lan})
			other, stopOther := h.listen([]netip.AddrPort{netip.MustParseAddrPort("203.0.113.1:1")})
			h.punchFrom(tc.from)
			h.punchFrom(tc.from) // a second packet must not close twice
			if got := closed(ch); got != tc.heard {
				t.Errorf("heard %v, want %v", got, tc.heard)
			}
			if closed(other) {
				t.Error("a wait on another host ended")
			}
			stop()
			stopOther()
			if len(h.waiting) != 0 {
				t.Errorf("waits left after stop: %v", h.waiting)
			}
		})
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestNotifiedSideOpensItsNATBeforeAnswering: the notified side's low-TTL
// packets are sent before punchFor returns, that is before the gateway is
// answered and so before the asker can send anything.
func TestNotifiedSideOpensItsNATBeforeAnswering(t *testing.T) {
	_, cl := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(natpunchtest.StartGateway(t, gateway.Config{}))}}, natpunchtest.Echo())
	peer, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	plan := wire.PunchPlan{Node: string(peer.NodeID()), Observed: "127.0.0.1:9", DelayMs: 0}
	if err := cl.punchFor(cl.gateways[0], peer.NodeID(), plan); err != nil {
		t.Fatal(err)
	}
	if got := cl.PunchStats().PacketsSent; got != lowTTLPackets {
		t.Fatalf("%d punch packets sent when punchFor returned, want the %d low-TTL ones", got, lowTTLPackets)
	}
}
