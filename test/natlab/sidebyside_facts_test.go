package natlab_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/peerbridge/peerbridge/test/natlab"
)

// factWait bounds each wait for a datagram in the TTL facts tests; one
// that has not come by then is taken as dropped (the lab's links carry a
// datagram in well under a millisecond).
const factWait = 500 * time.Millisecond

// udpEnd is a UDP socket in a lab host and the public address its NAT
// maps it to (Linux masquerade keeps the port when it can).
type udpEnd struct {
	c      *net.UDPConn
	public netip.AddrPort
}

func newEnd(t *testing.T, h *natlab.Host, public netip.Addr) udpEnd {
	t.Helper()
	c, err := h.ListenUDP(netip.AddrPortFrom(h.Addrs()[0], 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if !public.IsValid() {
		public = h.Addrs()[0]
	}
	return udpEnd{c: c, public: netip.AddrPortFrom(public, uint16(c.LocalAddr().(*net.UDPAddr).Port))}
}

// send sends one datagram to `to` with the given TTL (0: the default).
func (e udpEnd) send(t *testing.T, to netip.AddrPort, ttl int) {
	t.Helper()
	if ttl > 0 {
		setTTL(t, e.c, ttl)
		defer setTTL(t, e.c, 64)
	}
	if _, err := e.c.WriteToUDPAddrPort([]byte("fact"), to); err != nil {
		t.Fatal(err)
	}
}

func setTTL(t *testing.T, c *net.UDPConn, ttl int) {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_TTL, ttl) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
}

// got reports whether a datagram reached e within factWait.
func (e udpEnd) got(t *testing.T) bool {
	t.Helper()
	if err := e.c.SetReadDeadline(time.Now().Add(factWait)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	_, _, err := e.c.ReadFromUDPAddrPort(buf)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// TestLowTTLOpensOwnNATOnlyWithTTL2 shows why a punch's low-TTL packets
// have TTL 2 and not 1: a packet that dies at its own NAT is dropped there
// before the NAT maps it, so only TTL 2, which dies one hop past the NAT,
// opens it.
func TestLowTTLOpensOwnNATOnlyWithTTL2(t *testing.T) {
	lab := natlab.New(t)
	n := lab.AddNAT("n", natlab.PortRestricted)
	a := newEnd(t, n.AddHost("a"), n.PublicAddr())
	p := newEnd(t, lab.AddPublicHost("p", 1), netip.Addr{})

	a.send(t, p.public, 1)
	p.send(t, a.public, 0)
	if a.got(t) {
		t.Fatal("a TTL-1 packet opened its own NAT")
	}
	a.send(t, p.public, 2)
	if p.got(t) {
		t.Fatal("a TTL-2 packet crossed the lab's router hop")
	}
	p.send(t, a.public, 0)
	if !a.got(t) {
		t.Fatal("a TTL-2 packet did not open its own NAT")
	}
}

// TestSideBySideTTL2ReachesPeerRouter shows issue 22's side-by-side
// Docker hosts with plain sockets: with no router between the two
// routers, the TTL-2 packet that opens one side's NAT reaches the other
// side's router before that side's own packet has left it, the router
// takes it into its own stack, and the other side's flow is mapped to
// another port; after that no packet gets through either way. With a
// router hop between them the same sequence punches.
func TestSideBySideTTL2ReachesPeerRouter(t *testing.T) {
	for _, tc := range []struct {
		name      string
		routerHop bool
		punches   bool
	}{
		{"one router hop between", true, true},
		{"side by side", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lab := natlab.New(t)
			if err := lab.SetRouterHop(tc.routerHop); err != nil {
				t.Fatal(err)
			}
			na, nb := lab.AddNAT("na", natlab.DockerHost), lab.AddNAT("nb", natlab.DockerHost)
			a := newEnd(t, na.AddHost("a"), na.PublicAddr())
			b := newEnd(t, nb.AddHost("b"), nb.PublicAddr())
			a.send(t, b.public, 2) // a first; by symmetry b first is the same
			b.send(t, a.public, 2)
			a.send(t, b.public, 0)
			gotB := b.got(t)
			b.send(t, a.public, 0)
			gotA := a.got(t)
			if gotA != tc.punches || gotB != tc.punches {
				t.Fatalf("a got b's packet: %v, b got a's: %v; want %v", gotA, gotB, tc.punches)
			}
		})
	}
}
