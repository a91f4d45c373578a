package natpunch

import (
	"net/netip"
	"testing"
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
