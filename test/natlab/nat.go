package natlab

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind is a NAT behaviour, named after RFC 4787's mapping and filtering
// classes for UDP.
type Kind string

const (
	// None is no NAT at all: hosts sit directly on the public segment.
	None Kind = "none"
	// FullCone has endpoint-independent mapping and endpoint-independent
	// filtering: once a LAN port has sent anything, anyone can reach it via
	// the router's public address and the same port. It supports one LAN
	// host.
	FullCone Kind = "full-cone"
	// PortRestricted has endpoint-independent mapping and address-and-port
	// dependent filtering.
	PortRestricted Kind = "port-restricted"
	// Symmetric has endpoint-dependent mapping (a fresh random public port
	// per destination) and address-and-port dependent filtering.
	Symmetric Kind = "symmetric"
	// DockerHost is a Linux host masquerading for its containers or LAN
	// with no input firewall, as Docker's default host set-up and a plain
	// Linux gateway are: port-restricted behaviour, but an unsolicited
	// packet addressed to the host itself is accepted by its stack and so
	// recorded by conntrack, which moves the next outbound flow toward that
	// packet's sender to another public port.
	DockerHost Kind = "docker-host"
	// Corporate is a port-restricted NAT whose router forwards no UDP at
	// all, as corporate, hotel and guest networks that pass only TCP do.
	// [NAT.SetUDPBlocked] lifts and restores the block at run time.
	Corporate Kind = "corporate"
)

const (
	// wanDev and lanDev are the router's public interface and LAN bridge.
	wanDev = uplink
	lanDev = "lan"
	// conntrackUDPTimeout is the routers' UDP conntrack timeout in seconds,
	// long enough that no mapping expires during a test.
	conntrackUDPTimeout = "600"
	// natTable and lossTable are the routers' nftables tables.
	natTable  = "natlab"
	lossTable = "natlab_loss"
)

// NAT is a router with a private LAN behind it, or for [None] just a way to
// put hosts on the public segment. Create it with [Lab.AddNAT].
type NAT struct {
	lab    *Lab
	name   string
	kind   Kind
	router string     // router namespace; "" for None
	public netip.Addr // router's public address; invalid for None
	lan    int        // N of 198.19.N.0/24; 0 for None
	v6     bool       // routes IPv6 (see WithIPv6)

	hostsMu sync.Mutex // guards hosts, and kind (which only SetKind changes)
	hosts   int        // LAN hosts added so far
}

// Kind returns the NAT's behaviour.
func (n *NAT) Kind() Kind {
	n.hostsMu.Lock()
	defer n.hostsMu.Unlock()
	return n.kind
}

// Name returns the router's namespace name, usable with "ip netns exec" (for
// example to run "nft list ruleset" or "conntrack -L" while debugging). It is
// "" for [None], which has no router.
func (n *NAT) Name() string { return n.router }

// PublicAddr returns the router's address on the public segment. It is the
// zero netip.Addr for [None]: there each host has its own public address.
func (n *NAT) PublicAddr() netip.Addr { return n.public }

// AddHost adds a host behind the NAT and returns it. Behind a router the host
// gets the next address of the LAN 198.19.N.0/24 (from .10) and a default
// route via the router (198.19.N.1); for [None] it gets one address on the
// public segment. A [FullCone] NAT takes only one host. name follows the
// rules of [Lab.AddPublicHost].
func (n *NAT) AddHost(name string) *Host {
	n.lab.tb.Helper()
	h, err := n.addHost(name)
	if err != nil {
		n.lab.tb.Fatalf("%v", err)
	}
	return h
}

func (n *NAT) addHost(name string) (*Host, error) {
	if n.kind == None {
		return n.lab.addPublicHost(name, 1)
	}
	ns, addr, port, err := n.attachLAN(name, nil)
	if err != nil {
		return nil, err
	}
	addrs6, err := n.plugLANHost6(ns, addr) // ipv6: nothing unless n routes IPv6
	if err != nil {
		return nil, err
	}
	return &Host{ns: ns, addrs: []netip.Addr{addr}, addrs6: addrs6, wireNS: n.router, wireDev: port}, nil
}

// attachLAN makes namespace name and plugs it into n's LAN with the LAN's
// next address, as a host or a nested router; it returns the namespace, its
// address and its bridge port in n's router. reserve, if set, runs first
// with the lab's lock held, to claim what else the caller needs.
func (n *NAT) attachLAN(name string, reserve func(*Lab) error) (ns string, addr netip.Addr, port string, err error) {
	n.hostsMu.Lock()
	defer n.hostsMu.Unlock()
	if n.kind == FullCone && n.hosts > 0 {
		return "", addr, "", fmt.Errorf("natlab: NAT %s: a full-cone NAT supports one LAN host", n.name)
	}
	if firstHostOctet+n.hosts > maxOctet {
		return "", addr, "", fmt.Errorf("natlab: NAT %s: LAN is out of addresses", n.name)
	}
	addr = lanAddr(n.lan, firstHostOctet+n.hosts)
	l := n.lab
	l.mu.Lock()
	defer l.mu.Unlock()
	if reserve != nil {
		if err := reserve(l); err != nil {
			return "", addr, "", err
		}
	}
	if err := l.claimLabel(name); err != nil {
		return "", addr, "", err
	}
	if ns, err = l.addNamespace(name); err != nil {
		return "", addr, "", err
	}
	n.hosts++
	if port, err = n.plugLANHost(ns, addr); err != nil {
		return "", addr, "", err
	}
	return ns, addr, port, nil
}

// plugLANHost connects host namespace ns to the router's LAN bridge with
// address addr and a default route via the router, and returns the name of
// its bridge port in the router.
func (n *NAT) plugLANHost(ns string, addr netip.Addr) (string, error) {
	port := "l" + strconv.Itoa(n.hosts)
	if err := veth(n.router, port, ns, uplink); err != nil {
		return "", err
	}
	if err := ip("-n", n.router, "link", "set", port, "master", lanDev, "up"); err != nil {
		return "", err
	}
	if err := addrsUp(ns, uplink, []netip.Addr{addr}); err != nil {
		return "", err
	}
	return port, ip("-n", ns, "route", "add", "default", "via", lanAddr(n.lan, 1).String())
}

// SetLoss makes the router drop percent per cent of the packets it forwards,
// in both directions, chosen at random (nftables numgen). 0 removes the loss.
// It fails for [None]; use [Host.SetLoss] there.
func (n *NAT) SetLoss(percent int) error {
	if n.kind == None {
		return errors.New("natlab: SetLoss: a none NAT has no router; use Host.SetLoss")
	}
	return setLoss(n.router, percent, "forward")
}

// SetRate limits the router's throughput to bitsPerSec in each direction
// with a token bucket filter (tc tbf) on its public interface and its LAN
// bridge. 0 removes the limit. It needs tc and fails for [None].
func (n *NAT) SetRate(bitsPerSec int64) error {
	if n.kind == None {
		return errors.New("natlab: SetRate: a none NAT has no router")
	}
	if bitsPerSec < 0 {
		return fmt.Errorf("natlab: SetRate: negative rate %d", bitsPerSec)
	}
	for _, dev := range []string{wanDev, lanDev} {
		if err := setRate(n.router, dev, bitsPerSec); err != nil {
			return err
		}
	}
	return nil
}

// setRate puts a tbf qdisc of bitsPerSec on dev in ns, or with 0 puts back
// the default qdisc.
func setRate(ns, dev string, bitsPerSec int64) error {
	if bitsPerSec == 0 {
		// Deleting the root qdisc restores the default; it fails only when
		// there was none to delete, which is what was asked for anyway.
		if err := run(nil, "tc", "-n", ns, "qdisc", "del", "dev", dev, "root"); err != nil &&
			!strings.Contains(err.Error(), "Cannot delete qdisc with handle of zero") &&
			!strings.Contains(err.Error(), "No such file or directory") {
			return err
		}
		return nil
	}
	// Burst: 10 ms worth of traffic, at least a few full-size frames.
	burst := max(bitsPerSec/8/100, 16*1024)
	return run(nil, "tc", "-n", ns, "qdisc", "replace", "dev", dev, "root", "tbf",
		"rate", strconv.FormatInt(bitsPerSec, 10)+"bit",
		"burst", strconv.FormatInt(burst, 10),
		"latency", "100ms")
}

// setLoss installs a random-drop rule of percent per cent on the given
// netfilter hooks of namespace ns, replacing any earlier one.
func setLoss(ns string, percent int, hooks ...string) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("natlab: loss must be 0..100 per cent, got %d", percent)
	}
	var b strings.Builder
	// Creating then deleting the table makes the script idempotent.
	fmt.Fprintf(&b, "table ip %s\ndelete table ip %s\n", lossTable, lossTable)
	if percent > 0 {
		fmt.Fprintf(&b, "table ip %s {\n", lossTable)
		for _, hook := range hooks {
			fmt.Fprintf(&b, "\tchain %s {\n\t\ttype filter hook %s priority filter - 10; policy accept;\n", hook, hook)
			fmt.Fprintf(&b, "\t\t%s\n\t}\n", lossRule(percent))
		}
		b.WriteString("}\n")
	}
	return nft(ns, b.String())
}

// setWireLoss drops percent per cent of the packets arriving on dev in
// namespace ns (nftables netdev ingress), replacing any earlier rule there.
func setWireLoss(ns, dev string, percent int) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("natlab: loss must be 0..100 per cent, got %d", percent)
	}
	table := lossTable + "_" + dev
	var b strings.Builder
	fmt.Fprintf(&b, "table netdev %s\ndelete table netdev %s\n", table, table)
	if percent > 0 {
		fmt.Fprintf(&b, "table netdev %s {\n\tchain ingress {\n", table)
		fmt.Fprintf(&b, "\t\ttype filter hook ingress device %q priority filter; policy accept;\n", dev)
		fmt.Fprintf(&b, "\t\t%s\n\t}\n}\n", lossRule(percent))
	}
	return nft(ns, b.String())
}

// lossRule returns the nftables rule dropping percent per cent of packets.
func lossRule(percent int) string {
	if percent == 100 {
		return "drop" // numgen's "mod 100" range stops at 99
	}
	return fmt.Sprintf("numgen random mod 100 < %d drop", percent)
}

// nft loads script into namespace ns's nftables.
func nft(ns, script string) error {
	return run([]byte(script), "ip", "netns", "exec", ns, "nft", "-f", "-")
}

func (l *Lab) addNAT(name string, kind Kind) (*NAT, error) {
	switch kind {
	case None:
		l.mu.Lock()
		defer l.mu.Unlock()
		if err := l.claimLabel(name); err != nil {
			return nil, err
		}
		return &NAT{lab: l, name: name, kind: kind}, nil
	case FullCone, PortRestricted, Symmetric, DockerHost, Corporate, Mapped:
	default:
		return nil, fmt.Errorf("natlab: unknown NAT kind %q", kind)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.nextLAN > maxLANs {
		return nil, errors.New("natlab: out of LANs in 198.19.0.0/16")
	}
	if err := l.claimLabel(name); err != nil {
		return nil, err
	}
	public, err := l.allocPublic(1)
	if err != nil {
		return nil, err
	}
	n := &NAT{lab: l, name: name, kind: kind, public: public[0], lan: l.nextLAN}
	l.nextLAN++
	if n.router, _, err = l.attachPublic(name, public); err != nil {
		return nil, err
	}
	if _, err := l.public6Up(name, n.router, public); err != nil { // ipv6: nothing without it
		return nil, err
	}
	if err := n.setupRouter(); err != nil {
		return n, err
	}
	return n, n.setupRouter6()
}

// setupRouter gives the router its LAN bridge, its nftables rules and its
// sysctls.
func (n *NAT) setupRouter() error {
	ns := n.router
	if err := ip("-n", ns, "link", "add", lanDev, "type", "bridge", "forward_delay", "0"); err != nil {
		return err
	}
	if err := addrsUp(ns, lanDev, []netip.Addr{lanAddr(n.lan, 1)}); err != nil {
		return err
	}
	if err := disableBridgeNetfilter(ns); err != nil {
		return err
	}
	// The ruleset goes first: it makes sure conntrack is loaded, so its
	// sysctls exist.
	if err := nft(ns, ruleset(n.kind, lanAddr(n.lan, firstHostOctet))); err != nil {
		return err
	}
	return writeSysctls(ns, []sysctl{
		{"net/ipv4/ip_forward", "1"},
		{"net/netfilter/nf_conntrack_udp_timeout", conntrackUDPTimeout},
		{"net/netfilter/nf_conntrack_udp_timeout_stream", conntrackUDPTimeout},
	}, false)
}

// SetKind changes the NAT's behaviour at run time, as if its router were
// reconfigured and restarted: the nftables ruleset is replaced and the
// connection-tracking table flushed, so every mapping is forgotten and the
// next packet of each flow is mapped afresh under the new rules. It cannot
// turn a NAT into or out of [None], and [FullCone] needs at most one LAN host.
func (n *NAT) SetKind(kind Kind) error {
	switch {
	case n.kind == None || kind == None:
		return errors.New("natlab: SetKind: a none NAT has no router, and a router cannot become none")
	case kind != FullCone && kind != PortRestricted && kind != Symmetric && kind != DockerHost && kind != Corporate:
		return fmt.Errorf("natlab: SetKind: unknown NAT kind %q", kind)
	}
	n.hostsMu.Lock()
	defer n.hostsMu.Unlock()
	if kind == FullCone && n.hosts > 1 {
		return fmt.Errorf("natlab: SetKind: NAT %s has %d hosts; a full-cone NAT supports one", n.name, n.hosts)
	}
	if err := nft(n.router, ruleset(kind, lanAddr(n.lan, firstHostOctet))); err != nil {
		return err
	}
	if err := flushConntrack(n.router); err != nil {
		return err
	}
	n.kind = kind
	return nil
}

// ruleset returns the router's nftables ruleset for kind. fullConeHost is the
// LAN host a full-cone NAT forwards to.
//
// All kinds forward LAN-to-public traffic, admit public-to-LAN traffic only
// for established flows, and masquerade what leaves the public interface.
// Port-restricted is exactly that: Linux keeps the source port when it can,
// so the mapping is endpoint-independent, and conntrack admits only replies
// from the endpoint contacted. Symmetric masquerades fully-random, giving
// each new flow a random port. Full-cone also records each LAN source port
// that sends (a dynamic set) and sends any public UDP arriving on such a
// port to the LAN host.
func ruleset(kind Kind, fullConeHost netip.Addr) string {
	if kind == Mapped {
		return mappedRuleset()
	}
	var b strings.Builder
	b.WriteString(udpBlockRules(kind == Corporate))
	fmt.Fprintf(&b, "table ip %s\ndelete table ip %s\ntable ip %s {\n", natTable, natTable, natTable)
	masq := "masquerade"
	if kind == Symmetric {
		masq = "masquerade fully-random"
	}
	var coneForward string
	if kind == FullCone {
		fmt.Fprintf(&b, `	set mapped {
		type inet_service
		flags dynamic,timeout
		timeout %ss
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname %q udp dport @mapped dnat to %s
	}
`, conntrackUDPTimeout, wanDev, fullConeHost)
		coneForward = fmt.Sprintf("\t\tiifname %q oifname %q update @mapped { udp sport }\n", lanDev, wanDev) +
			"\t\tct status dnat accept\n"
	}
	// Unsolicited packets to the router itself are dropped, as a home
	// router's firewall does. Besides being realistic this matters for
	// hole punching: a packet that reached the router's input and was
	// accepted would leave a conntrack entry for its flow, and the next
	// outbound flow toward that peer would then be masqueraded to another
	// port to avoid the clash, which no real NAT of these kinds does.
	if kind != DockerHost {
		fmt.Fprintf(&b, `	chain input {
		type filter hook input priority filter; policy accept;
		iifname %q ct state new drop
	}
`, wanDev)
	}
	fmt.Fprintf(&b, `	chain forward {
		type filter hook forward priority filter; policy drop;
%s		ct state established,related accept
		iifname %q oifname %q accept
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname %q %s
	}
}
`, coneForward, lanDev, wanDev, wanDev, masq)
	return b.String()
}

// lanAddr returns 198.19.lan.host.
func lanAddr(lan, host int) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 19, byte(lan), byte(host)})
}

// SetMappingTimeout makes the router forget an idle UDP mapping after d,
// whether or not it ever carried replies, as many home routers and carrier
// NATs do after 30 s (routers of this lab otherwise keep them ten minutes).
// It fails for [None], and for d under a second.
func (n *NAT) SetMappingTimeout(d time.Duration) error {
	if n.kind == None {
		return errors.New("natlab: SetMappingTimeout: a none NAT has no router")
	}
	if d < time.Second {
		return fmt.Errorf("natlab: SetMappingTimeout: %v is under the second conntrack counts in", d)
	}
	secs := strconv.Itoa(int(d / time.Second))
	return writeSysctls(n.router, []sysctl{
		{"net/netfilter/nf_conntrack_udp_timeout", secs},
		{"net/netfilter/nf_conntrack_udp_timeout_stream", secs},
	}, false)
}
