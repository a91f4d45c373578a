package natlab_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/natpunch/portmap"
	"github.com/peerbridge/peerbridge/test/natlab"
)

// routerOf returns the LAN address of h's router: .1 of its /24.
func routerOf(h *natlab.Host) netip.Addr {
	a := h.Addrs()[0].As4()
	a[3] = 1
	return netip.AddrFrom4(a)
}

// mapperConfig is a portmap config for port on h, asking h's router.
func mapperConfig(h *natlab.Host, port uint16) portmap.Config {
	gw := routerOf(h)
	return portmap.Config{
		Port:    port,
		Gateway: func() (netip.Addr, error) { return gw, nil },
		Dial:    h.DialTCP, // any network: it dials inside h's namespace
	}
}

// TestPortMapMiniupnpd maps a port with each protocol from a host behind
// a router running the real miniupnpd, sends to the mapped address from
// the public segment unsolicited, and checks the mapping is gone once the
// mapper is closed.
func TestPortMapMiniupnpd(t *testing.T) {
	lab := natlab.New(t)
	n := lab.AddNAT("pm", natlab.Mapped)
	h := n.AddHost("pm-h")
	far := lab.AddPublicHost("pm-far", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offers, err := portmap.Probe(ctx, routerOf(h), h.DialTCP)
	if err != nil || offers != (portmap.Offers{UPnP: true, NATPMP: true, PCP: true}) {
		t.Errorf("Probe: %v, %v; want all three", offers, err)
	}
	for _, p := range portmap.AllProtocols() {
		t.Run(string(p), func(t *testing.T) {
			conn, err := h.ListenUDP(netip.AddrPort{})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			cfg := mapperConfig(h, uint16(conn.LocalAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()))
			cfg.Protocols = []portmap.Protocol{p}
			held := make(chan portmap.Mapping, 4)
			cfg.OnChange = func(m portmap.Mapping, ok bool) {
				if ok {
					held <- m
				}
			}
			m, err := portmap.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			m.Start()
			defer m.Close()
			var got portmap.Mapping
			select {
			case got = <-held:
			case <-time.After(10 * time.Second):
				t.Fatalf("no mapping with %s", p)
			}
			if got.Protocol != p || got.External.Addr() != n.PublicAddr() || got.Lifetime < time.Hour {
				t.Errorf("mapping %+v, want %s on %v", got, p, n.PublicAddr())
			}
			if !reaches(t, far, got.External, conn) {
				t.Errorf("%s: an unsolicited packet to %v did not arrive", p, got.External)
			}
			m.Close()
			if reaches(t, far, got.External, conn) {
				t.Errorf("%s: mapping %v still open after Close", p, got.External)
			}
		})
	}
}

// reaches sends a packet from a fresh socket on far to to, and reports
// whether conn receives it within a second.
func reaches(t *testing.T, far *natlab.Host, to netip.AddrPort, conn interface {
	ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error)
	SetReadDeadline(time.Time) error
}) bool {
	t.Helper()
	s, err := far.ListenUDP(netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.WriteToUDPAddrPort([]byte("unsolicited"), to); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 64)
	for range 8 {
		n, _, err := conn.ReadFromUDPAddrPort(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		if string(buf[:n]) == "unsolicited" {
			return true
		}
	}
	return false
}
