package natpunch

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
)

func TestRelaySessionsExpireWhenIdle(t *testing.T) {
	a := record{id: "a", observed: netip.MustParseAddrPort("198.18.0.12:1000")}
	b := record{id: "b", observed: netip.MustParseAddrPort("198.18.0.13:2000"), via: 1}
	tab := newRelayTable(RelayLimits{})
	t0 := time.Unix(1000, 0)
	busy, idle := sessionID{1}, sessionID{2}
	tab.open(busy, a, b, t0)
	tab.open(idle, a, b, t0)
	const timeout = time.Minute
	if to, ok := tab.route(busy, a.observed, 100, t0.Add(50*time.Second)); !ok || to.addr != b.observed || to.via != 1 {
		t.Fatalf("route from a: %+v, %v", to, ok)
	}
	if n := tab.expire(t0.Add(70*time.Second), timeout); n != 1 {
		t.Fatalf("expired %d sessions, want the idle one", n)
	}
	if _, ok := tab.route(idle, a.observed, 100, t0.Add(71*time.Second)); ok {
		t.Error("the expired session still routes")
	}
	if _, ok := tab.route(busy, b.observed, 100, t0.Add(71*time.Second)); !ok {
		t.Error("the busy session was closed")
	}
}

func TestRelaySessionFollowsRebind(t *testing.T) {
	a := record{id: "a", observed: netip.MustParseAddrPort("198.18.0.12:1000")}
	b := record{id: "b", observed: netip.MustParseAddrPort("198.18.0.13:2000")}
	tab := newRelayTable(RelayLimits{})
	now := time.Unix(1000, 0)
	s := sessionID{7}
	tab.open(s, a, b, now)
	moved := netip.MustParseAddrPort("198.18.0.12:3000")
	if _, ok := tab.route(s, moved, 10, now); ok {
		t.Fatal("a packet from an address no end registered was routed")
	}
	tab.rebind("a", moved, 1)
	if _, ok := tab.route(s, a.observed, 10, now); ok {
		t.Error("a's old address still routes")
	}
	if to, ok := tab.route(s, moved, 10, now); !ok || to.addr != b.observed {
		t.Errorf("from a's new address: %+v, %v", to, ok)
	}
	if to, ok := tab.route(s, b.observed, 10, now); !ok || to.addr != moved || to.via != 1 {
		t.Errorf("to a's new address: %+v, %v", to, ok)
	}
}

func TestRelayTableBoundsSessionsPerClient(t *testing.T) {
	a := record{id: "a", observed: netip.MustParseAddrPort("198.18.0.12:1000")}
	b := record{id: "b", observed: netip.MustParseAddrPort("198.18.0.13:2000")}
	c := record{id: "c", observed: netip.MustParseAddrPort("198.18.0.14:3000")}
	tab := newRelayTable(RelayLimits{MaxSessionsPerClient: 2, MaxSessions: 3})
	now := time.Unix(1000, 0)
	errs := []error{tab.open(sessionID{1}, a, b, now), tab.open(sessionID{2}, a, c, now), tab.open(sessionID{3}, a, b, now), tab.open(sessionID{4}, b, c, now)}
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], errRelayFull) || errs[3] != nil {
		t.Fatalf("opens: %v", errs)
	}
	if err := tab.open(sessionID{5}, c, c, now); !errors.Is(err, errRelayFull) {
		t.Errorf("a fourth session in a table of 3: %v", err)
	}
	tab.close(sessionID{1})
	if err := tab.open(sessionID{6}, a, b, now); err != nil {
		t.Errorf("a's closed session did not free its room: %v", err)
	}
	if tab.refused.Load() != 2 {
		t.Errorf("%d refusals counted, want 2", tab.refused.Load())
	}
}

func TestRelayTableChargesTheSendersPackets(t *testing.T) {
	a := record{id: "a", observed: netip.MustParseAddrPort("198.18.0.12:1000")}
	b := record{id: "b", observed: netip.MustParseAddrPort("198.18.0.13:2000")}
	tab := newRelayTable(RelayLimits{ClientPacketRate: 1, ClientPacketBurst: 3})
	now := time.Unix(1000, 0)
	if err := tab.open(sessionID{1}, a, b, now); err != nil {
		t.Fatal(err)
	}
	sent := 0
	for range 10 {
		if _, ok := tab.route(sessionID{1}, a.observed, 100, now); ok {
			sent++
		}
	}
	if _, ok := tab.route(sessionID{1}, b.observed, 100, now); !ok {
		t.Error("b's packet was charged to a's budget")
	}
	if sent != 3 || tab.droppedLimit.Load() != 7 {
		t.Errorf("a relayed %d of 10 with a burst of 3; %d counted as over the limit", sent, tab.droppedLimit.Load())
	}
}

func TestRelayTableBoundsWhatOneNodeReceives(t *testing.T) {
	victim := record{id: "v", observed: netip.MustParseAddrPort("198.18.0.12:1000")}
	tab := newRelayTable(RelayLimits{ClientPacketRate: 1, ClientPacketBurst: 3, ReceivePacketRate: 1, ReceivePacketBurst: 4})
	now := time.Unix(1000, 0)
	received := 0
	for i := range 3 {
		from := record{id: identity.NodeID(fmt.Sprint(i)), observed: netip.AddrPortFrom(netip.MustParseAddr("198.18.0.20"), uint16(2000+i))}
		if err := tab.open(sessionID{byte(i)}, from, victim, now); err != nil {
			t.Fatal(err)
		}
		for range 3 { // within the sender's own burst
			if _, ok := tab.route(sessionID{byte(i)}, from.observed, 100, now); ok {
				received++
			}
		}
	}
	if received != 4 {
		t.Errorf("three senders within their own budgets relayed %d packets to one node, want its burst of 4", received)
	}
}
