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
		err := c.addSession(wire.SessionID{byte(i)}, gw, identity.NodeID(tc.peer), t0)
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
	if err := c.addSession(wire.SessionID{9}, gw, identity.NodeID("a"), t0); err != nil {
		t.Errorf("a's room was not freed by expiry: %v", err)
	}
}
