package natpunch

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

func TestRelayConnBoundsAndExpiry(t *testing.T) {
	c := newRelayConn(func([]byte, netip.AddrPort) error { return nil }, 2, 3)
	defer c.Close()
	gw := netip.MustParseAddrPort("127.0.0.1:9")
	t0 := time.Unix(1000, 0)
	for i, tc := range []struct {
		peer string
		ok   bool
	}{{"a", true}, {"a", true}, {"a", false}, {"b", true}, {"c", false}} {
		err := c.addSession(wire.SessionID{byte(i)}, gw, identity.NodeID(tc.peer), t0, false)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, errRelaySessions)) {
			t.Fatalf("session %d with %s: %v, want ok %v", i, tc.peer, err, tc.ok)
		}
	}
	if !c.deliver(gw, wire.SessionID{0}, []byte{1}) || c.deliver(gw, wire.SessionID{2}, []byte{1}) {
		t.Fatal("relay packets of an agreed session dropped, or of a refused one taken")
	}
	// Session 0 was just used; the others are idle since t0.
	if n := c.expire(t0.Add(time.Minute), 30*time.Second); n != 2 {
		t.Fatalf("expired %d sessions, want the 2 idle ones", n)
	}
	st := c.stats()
	if st.Sessions != 1 || st.Refused != 2 || st.Expired != 2 || st.Delivered != 1 || st.Dropped != 1 {
		t.Fatalf("stats %+v", st)
	}
	if err := c.addSession(wire.SessionID{9}, gw, identity.NodeID("a"), t0, false); err != nil {
		t.Errorf("a's room was not freed by expiry: %v", err)
	}
}

// TestRelayConnGrantReplaces: a peer's new ask replaces the session it
// asked for before (issue 18, row 4), and leaves the sessions this bridge
// asked for itself.
func TestRelayConnGrantReplaces(t *testing.T) {
	gw := netip.MustParseAddrPort("198.18.0.1:9444")
	c := newRelayConn(func([]byte, netip.AddrPort) error { return nil }, 4, 16)
	t0 := time.Unix(1000, 0)
	if err := c.addSession(wire.SessionID{1}, gw, "p", t0, false); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := c.addSession(wire.SessionID{2, byte(i)}, gw, "p", t0, true); err != nil {
			t.Fatalf("grant %d: %v", i, err)
		}
	}
	if len(c.sessions) != 2 || c.replaced.Load() != 4 {
		t.Fatalf("%d sessions, %d replaced; want 2 (one asked, one granted) and 4", len(c.sessions), c.replaced.Load())
	}
	if _, ok := c.gateway(wire.SessionID{1}); !ok {
		t.Error("the session this bridge asked for was replaced")
	}
	if _, ok := c.gateway(wire.SessionID{2, 4}); !ok {
		t.Error("the newest grant is missing")
	}
}
