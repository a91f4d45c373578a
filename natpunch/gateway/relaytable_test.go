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
	tab.open(idle, b, a, t0)
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
	errs := []error{tab.open(wire.SessionID{1}, a, b, now), tab.open(wire.SessionID{2}, a, c, now), tab.open(wire.SessionID{3}, b, a, now), tab.open(wire.SessionID{4}, b, c, now)}
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], errRelayFull) || errs[3] != nil {
		t.Fatalf("opens: %v", errs)
	}
	if err := tab.open(wire.SessionID{5}, c, c, now); !errors.Is(err, errRelayFull) {
		t.Errorf("a fourth session in a table of 3: %v", err)
	}
	tab.close(wire.SessionID{1})
	if err := tab.open(wire.SessionID{6}, b, a, now); err != nil {
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

// TestRelayTableOneSessionPerAsker is issue 18, row 4: keys that asked
// for sessions with a victim again and again held three slots each. A new
// ask of the same asker for the same node replaces its earlier session.
func TestRelayTableOneSessionPerAsker(t *testing.T) {
	victim := record{Record: wire.Record{ID: "v", Observed: netip.MustParseAddrPort("198.18.0.12:1000")}}
	tab := newRelayTable(RelayLimits{MaxSessionsPerClient: 16})
	now := time.Unix(1000, 0)
	for k := range 5 {
		attacker := record{Record: wire.Record{ID: identity.NodeID(fmt.Sprint("k", k)), Observed: netip.AddrPortFrom(netip.MustParseAddr("198.18.0.66"), uint16(2000+k))}}
		for i := range 3 {
			if err := tab.open(wire.SessionID{byte(k), byte(i)}, attacker, victim, now); err != nil {
				t.Fatalf("key %d, ask %d: %v", k, i, err)
			}
		}
	}
	if n, _, _ := tab.stats(); n != 5 || tab.replaced.Load() != 10 {
		t.Fatalf("%d sessions, %d replaced; want 5 and 10", n, tab.replaced.Load())
	}
	attacker := netip.AddrPortFrom(netip.MustParseAddr("198.18.0.66"), 2000)
	if _, ok := tab.route(wire.SessionID{0, 0}, attacker, 10, now); ok {
		t.Error("a replaced session still routes")
	}
	if _, ok := tab.route(wire.SessionID{0, 2}, attacker, 10, now); !ok {
		t.Error("the newest session does not route")
	}
	legit := record{Record: wire.Record{ID: "legit", Observed: netip.MustParseAddrPort("198.18.0.7:3000")}}
	if err := tab.open(wire.SessionID{9}, legit, victim, now); err != nil {
		t.Errorf("a legitimate ask was refused: %v", err)
	}
}
