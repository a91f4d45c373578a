package natlab

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
)

// IPv6. A lab made [WithIPv6] routes IPv6 next to its IPv4 NATs, as most
// ISPs now do: no NAT, but a stateful firewall on every home router, which
// lets out everything from its LAN and in only what belongs to a flow that
// went out (established, related). A simultaneous send from both sides
// opens two such firewalls exactly as a punch opens two NATs, with no port
// translation to predict, so pairs whose IPv4 NATs must relay can meet
// directly over IPv6.
//
// Addresses come from the documentation prefix 2001:db8::/32, inside the
// lab's own namespaces only:
//   - the public segment is 2001:db8::/64, each public address 198.18.0.X
//     mirrored as 2001:db8::X; the internet namespace is its router,
//     2001:db8::1, with a route to every LAN;
//   - the LAN of NAT N (198.19.N.0/24) is 2001:db8:N::/64 (N in hex), its
//     router 2001:db8:N::1 and host 198.19.N.X at 2001:db8:N::X (X in
//     hex).
//
// Packets between two LANs cross three routers (home, internet, home), so
// a punch packet sent with hop limit 2 dies in the internet namespace, as
// the public segment's bridge rule makes IPv4 ones die.
//
// Nested routers (a carrier NAT's homes, [NAT.AddNAT]) and NATs made with
// [Lab.AddNAT4] stay IPv4-only, as do their hosts. The IPv6 firewall is the
// same for every kind of NAT and is not changed by [NAT.SetKind];
// [Corporate] blocks only IPv4 UDP.

// WithIPv6 gives the lab IPv6 (see above). Without it every namespace has
// IPv6 turned off.
func WithIPv6() Option {
	return func(l *Lab) { l.ipv6 = true }
}

// firewall6Table is the routers' IPv6 firewall table.
const firewall6Table = "natlab6"

var (
	// internetRouter6 is the internet namespace's address on the public
	// segment, every public host's and router's IPv6 default route.
	internetRouter6 = netip.MustParseAddr("2001:db8::1")
)

// public6 returns the IPv6 mirror of a public IPv4 address: 2001:db8::X.
func public6(a netip.Addr) netip.Addr {
	b := a.As4()
	return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: b[3]})
}

// lan6 returns 2001:db8:lan::host.
func lan6(lan, host int) netip.Addr {
	return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 4: byte(lan >> 8), 5: byte(lan), 15: byte(host)})
}

// lan6Prefix returns LAN lan's /64.
func lan6Prefix(lan int) netip.Prefix { return netip.PrefixFrom(lan6(lan, 0), 64) }

// Addrs6 returns the host's IPv6 addresses, none in a lab without IPv6 or
// behind an IPv4-only NAT.
func (h *Host) Addrs6() []netip.Addr { return slices.Clone(h.addrs6) }

// AddNAT4 is [Lab.AddNAT] for a site whose ISP gives it no IPv6: in a lab
// made [WithIPv6] its router and hosts get no IPv6 address or route. In
// other labs it is AddNAT.
func (l *Lab) AddNAT4(name string, kind Kind) *NAT {
	l.tb.Helper()
	l.mu.Lock()
	l.v4only[name] = true
	l.mu.Unlock()
	return l.AddNAT(name, kind)
}

// ListenUDPDual opens a dual-stack UDP socket inside the host's namespace,
// bound to the unspecified address ([::]) and port (0 picks a free one): it
// sends and receives over IPv4 and IPv6, as a bridge listening on [::]
// does.
func (h *Host) ListenUDPDual(port uint16) (*net.UDPConn, error) {
	return h.listenUDP("udp", &net.UDPAddr{IP: net.IPv6unspecified, Port: int(port)})
}

// ListenUDP6 opens a UDP socket inside the host's namespace bound to the
// IPv6 address and port addr.
func (h *Host) ListenUDP6(addr netip.AddrPort) (*net.UDPConn, error) {
	return h.listenUDP("udp6", net.UDPAddrFromAddrPort(addr))
}

func (h *Host) listenUDP(network string, laddr *net.UDPAddr) (*net.UDPConn, error) {
	var conn *net.UDPConn
	err := inNetns(h.ns, func() error {
		var err error
		conn, err = net.ListenUDP(network, laddr)
		return err
	})
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, fmt.Errorf("natlab: listen %s %s in %s: %w", network, laddr, h.ns, err)
	}
	return conn, nil
}

// enableIPv6 turns IPv6 on in ns, without duplicate address detection (an
// address is usable at once) or router advertisements (routes are static).
func enableIPv6(ns string) error {
	var s []sysctl
	for _, dev := range []string{"all", "default"} {
		s = append(s,
			sysctl{"net/ipv6/conf/" + dev + "/disable_ipv6", "0"},
			sysctl{"net/ipv6/conf/" + dev + "/accept_dad", "0"},
			sysctl{"net/ipv6/conf/" + dev + "/accept_ra", "0"},
			sysctl{"net/ipv6/conf/" + dev + "/router_solicitations", "0"},
		)
	}
	return writeSysctls(ns, s, true)
}

// addrs6Up gives dev in ns addrs as /64s and, if via is valid, a default
// IPv6 route through it.
func addrs6Up(ns, dev string, addrs []netip.Addr, via netip.Addr) error {
	for _, a := range addrs {
		if err := ip("-n", ns, "-6", "addr", "add", netip.PrefixFrom(a, 64).String(), "dev", dev, "nodad"); err != nil {
			return err
		}
	}
	if !via.IsValid() {
		return nil
	}
	return ip("-n", ns, "-6", "route", "add", "default", "via", via.String(), "dev", dev)
}

// setupInternet6 makes the internet namespace the public segment's IPv6
// router. It must be called with l.mu held, or before the lab is shared.
func (l *Lab) setupInternet6() error {
	if !l.ipv6 {
		return nil
	}
	if err := enableIPv6(l.internet); err != nil {
		return err
	}
	if err := addrs6Up(l.internet, publicBridge, []netip.Addr{internetRouter6}, netip.Addr{}); err != nil {
		return err
	}
	return writeSysctls(l.internet, []sysctl{{"net/ipv6/conf/all/forwarding", "1"}}, false)
}

// public6Up gives namespace ns, named name, on the public segment the IPv6
// mirrors of addrs and a default route through the internet namespace, and
// returns them; nothing in a lab without IPv6 or for an IPv4-only name. It
// must be called with l.mu held.
func (l *Lab) public6Up(name, ns string, addrs []netip.Addr) ([]netip.Addr, error) {
	if !l.ipv6 || l.v4only[name] {
		return nil, nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, public6(a))
	}
	return out, addrs6Up(ns, uplink, out, internetRouter6)
}

// setupRouter6 gives a top-level router of a lab with IPv6 its LAN's /64,
// IPv6 forwarding, its stateful firewall and a route from the internet
// namespace; it does nothing otherwise. It must be called with l.mu held.
func (n *NAT) setupRouter6() error {
	l := n.lab
	if !l.ipv6 || l.v4only[n.name] {
		return nil
	}
	if err := nft(n.router, firewall6()); err != nil {
		return err
	}
	if err := addrs6Up(n.router, lanDev, []netip.Addr{lan6(n.lan, 1)}, netip.Addr{}); err != nil {
		return err
	}
	if err := writeSysctls(n.router, []sysctl{{"net/ipv6/conf/all/forwarding", "1"}}, false); err != nil {
		return err
	}
	if err := ip("-n", l.internet, "-6", "route", "add", lan6Prefix(n.lan).String(), "via", public6(n.public).String(), "dev", publicBridge); err != nil {
		return err
	}
	n.v6 = true
	return nil
}

// plugLANHost6 gives a host on n's LAN its IPv6 address, the mirror of
// its IPv4 one, and a default route through the router, and returns it;
// nothing if n routes no IPv6.
func (n *NAT) plugLANHost6(ns string, addr netip.Addr) ([]netip.Addr, error) {
	if !n.v6 {
		return nil, nil
	}
	a := lan6(n.lan, int(addr.As4()[3]))
	return []netip.Addr{a}, addrs6Up(ns, uplink, []netip.Addr{a}, lan6(n.lan, 1))
}

// firewall6 is a home router's IPv6 firewall: forwarded IPv6 goes out from
// the LAN freely and comes in only as part of a flow that went out
// (conntrack's established and related, the latter for ICMPv6 errors).
// IPv4 is left to the NAT's own table.
func firewall6() string {
	return fmt.Sprintf(`table inet %[1]s
delete table inet %[1]s
table inet %[1]s {
	chain forward {
		type filter hook forward priority filter; policy accept;
		meta nfproto != ipv6 accept
		ct state established,related accept
		iifname %[2]q oifname %[3]q accept
		drop
	}
}
`, firewall6Table, lanDev, wanDev)
}
