package natlab_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/test/natlab"
)

// TestWireDelay checks that a wired lab delays every packet: a round trip
// between two public hosts crosses four wired links (each host's, each
// way), so it takes at least four times the wire's delay; and that the
// forwarder counts what it carried.
func TestWireDelay(t *testing.T) {
	const delay = 10 * time.Millisecond
	lab := natlab.New(t, natlab.WithWire(natlab.Wire{Delay: delay, Jitter: 5 * time.Millisecond}))
	refl := startReflector(t, lab.AddPublicHost("server", 1))
	conn := listen(t, lab.AddPublicHost("client", 1))
	local := netip.MustParseAddrPort(conn.LocalAddr().String())
	var best time.Duration
	for i := range 5 {
		start := time.Now()
		seen := observe(t, conn, refl.addrs[0])
		rtt := time.Since(start)
		if seen != local {
			t.Fatalf("seen as %s, want %s: a wired link must not change addresses", seen, local)
		}
		if i == 0 || rtt < best {
			best = rtt
		}
	}
	if best < 4*delay {
		t.Errorf("best round trip %v over four wired links of %v each", best, delay)
	}
	if s := lab.WireStats(); s.Forwarded < 20 {
		t.Errorf("wired links forwarded %d frames, want at least the 20 datagrams of 5 round trips", s.Forwarded)
	}
	t.Logf("best RTT %v, wire stats %+v", best, lab.WireStats())
}

// TestWireLoss checks that a wire losing everything carries nothing and
// counts the loss.
func TestWireLoss(t *testing.T) {
	lab := natlab.New(t, natlab.WithWire(natlab.Wire{Loss: 100}))
	refl := startReflector(t, lab.AddPublicHost("server", 1))
	conn := listen(t, lab.AddPublicHost("client", 1))
	if got, err := tryObserve(conn, refl.addrs[0], 3); err == nil {
		t.Fatalf("a probe crossed a wire with 100%% loss, seen as %s", got)
	}
	if s := lab.WireStats(); s.Lost == 0 || s.Forwarded != 0 {
		t.Errorf("wire stats %+v, want frames lost and none forwarded", s)
	}
}
