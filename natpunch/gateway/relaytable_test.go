package gateway

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

func TestRelaySessionsExpireWhenIdle(t *testing.T) {
	a := record{Record: wire.Record{ID: "a", Observed: netip.MustParseAddrPort("198.18.0.12:1000")}}
	b := record{Record: wire.Record{ID: "b", Observed: netip.MustParseAddrPort("198.18.0.13:2000")}, via: 1}
	tab := newRelayTable(RelayLimits{})
	t0 := time.Unix(1000, 0)
	busy, idle := wire.SessionID{1}, wire.SessionID{2}
	tab.open(busy, a, b, t0)
	tab.open(idle, a, b, t0)
	const timeout = time.Minute
	if to, ok := tab.route(busy, a.Observed, 100, t0.Add(50*time.Second)); !ok || to.addr != b.Observed || to.via != 1 {
		t.Fatalf("route from a: %+v, %v", to, ok)
	}
	if n := tab.expire(t0.Add(70*time.Second), timeout); n != 1 {
		t.Fatalf("expired %d sessions, want the idle one", n)
	}
	if _, ok := tab.route(idle, a.Observed, 100, t0.Add(71*time.Second)); ok {
		t.Error("the expired session still routes")
	}
	if _, ok := tab.route(busy, b.Observed, 100, t0.Add(71*time.Second)); !ok {
		t.Error("the busy session was closed")
	}
}

func TestRelaySessionFollowsRebind(t *testing.T) {
	a := record{Record: wire.Record{ID: "a", Observed: netip.MustParseAddrPort("198.18.0.12:1000")}}
	b := record{Record: wire.Record{ID: "b", Observed: netip.MustParseAddrPort("198.18.0.13:2000")}}
	tab := newRelayTable(RelayLimits{})
	now := time.Unix(1000, 0)
	s := wire.SessionID{7}
	tab.open(s, a, b, now)
	moved := netip.MustParseAddrPort("198.18.0.12:3000")
	if _, ok := tab.route(s, moved, 10, now); ok {
		t.Fatal("a packet from an address no end registered was routed")
	}
	tab.rebind("a", moved, 1)
	if _, ok := tab.route(s, a.Observed, 10, now); ok {
		t.Error("a's old address still routes")
	}
	if to, ok := tab.route(s, moved, 10, now); !ok || to.addr != b.Observed {
		t.Errorf("from a's new address: %+v, %v", to, ok)
	}
	if to, ok := tab.route(s, b.Observed, 10, now); !ok || to.addr != moved || to.via != 1 {
		t.Errorf("to a's new address: %+v, %v", to, ok)
	}
}

func TestRelayTableBoundsSessionsPerClient(t *testing.T) {
	a := record{Record: wire.Record{ID: "a", Observed: netip.MustParseAddrPort("198.18.0.12:1000")}}
	b := record{Record: wire.Record{ID: "b", Observed: netip.MustParseAddrPort("198.18.0.13:2000")}}
	c := record{Record: wire.Record{ID: "c", Observed: netip.MustParseAddrPort("198.18.0.14:3000")}}
	tab := newRelayTable(RelayLimits{MaxSessionsPerClient: 2, MaxSessions: 3})
	now := time.Unix(1000, 0)
	errs := []error{tab.open(wire.SessionID{1}, a, b, now), tab.open(wire.SessionID{2}, a, c, now), tab.open(wire.SessionID{3}, a, b, now), tab.open(wire.SessionID{4}, b, c, now)}
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], errRelayFull) || errs[3] != nil {
		t.Fatalf("opens: %v", errs)
	}
	if err := tab.open(wire.SessionID{5}, c, c, now); !errors.Is(err, errRelayFull) {
		t.Errorf("a fourth session in a table of 3: %v", err)
	}
	tab.close(wire.SessionID{1})
	if err := tab.open(wire.SessionID{6}, a, b, now); err != nil {
		t.Errorf("a's closed session did not free its room: %v", err)
	}
	if tab.refused.Load() != 2 {
		t.Errorf("%d refusals counted, want 2", tab.refused.Load())
	}
}

func TestRelayTableChargesTheSendersPackets(t *testing.T) {
	a := record{Record: wire.Record{ID: "a", Observed: netip.MustParseAddrPort("198.18.0.12:1000")}}
	b := record{Record: wire.Record{ID: "b", Observed: netip.MustParseAddrPort("198.18.0.13:2000")}}
	tab := newRelayTable(RelayLimits{ClientPackets: ratelimit.Rate{PerSecond: 1, Burst: 3}})
	now := time.Unix(1000, 0)
	if err := tab.open(wire.SessionID{1}, a, b, now); err != nil {
		t.Fatal(err)
	}
	sent := 0
	for range 10 {
		if _, ok := tab.route(wire.SessionID{1}, a.Observed, 100, now); ok {
			sent++
		}
	}
	if _, ok := tab.route(wire.SessionID{1}, b.Observed, 100, now); !ok {
		t.Error("b's packet was charged to a's budget")
	}
	if sent != 3 || tab.droppedLimit.Load() != 7 {
		t.Errorf("a relayed %d of 10 with a burst of 3; %d counted as over the limit", sent, tab.droppedLimit.Load())
	}
}

func TestRelayTableBoundsWhatOneNodeReceives(t *testing.T) {
	victim := record{Record: wire.Record{ID: "v", Observed: netip.MustParseAddrPort("198.18.0.12:1000")}}
	tab := newRelayTable(RelayLimits{ClientPackets: ratelimit.Rate{PerSecond: 1, Burst: 3}, ReceivePackets: ratelimit.Rate{PerSecond: 1, Burst: 4}})
	now := time.Unix(1000, 0)
	received := 0
	for i := range 3 {
		from := record{Record: wire.Record{ID: identity.NodeID(fmt.Sprint(i)), Observed: netip.AddrPortFrom(netip.MustParseAddr("198.18.0.20"), uint16(2000+i))}}
		if err := tab.open(wire.SessionID{byte(i)}, from, victim, now); err != nil {
			t.Fatal(err)
		}
		for range 3 { // within the sender's own burst
			if _, ok := tab.route(wire.SessionID{byte(i)}, from.Observed, 100, now); ok {
				received++
			}
		}
	}
	if received != 4 {
		t.Errorf("three senders within their own budgets relayed %d packets to one node, want its burst of 4", received)
	}
}
