package natlab

import (
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// Mapped is a symmetric NAT (a fresh random public port per destination,
// address-and-port dependent filtering) whose router runs the real
// miniupnpd (Debian's miniupnpd-nftables), offering UPnP IGD, NAT-PMP and
// PCP to its LAN. A host that maps its port is reachable there by anyone;
// one that does not is behind a symmetric NAT. Each Mapped NAT also gets a
// public host named after it plus "-st" with two addresses, serving the
// STUN miniupnpd checks its public address with: the lab's addresses are
// in 198.18.0.0/15, which miniupnpd takes for a private range and refuses
// to forward from unless STUN shows the router reachable from outside.
// A lab made by [New] skips the test when miniupnpd is not installed.
const Mapped Kind = "mapped"

// PortMappingSupported reports whether this machine can host [Mapped]
// NATs: its error, wrapping [ErrUnsupported], says what is missing.
func PortMappingSupported() error { return miniupnpdInstalled() }

// miniupnpdInstalled reports, wrapping ErrUnsupported, a missing daemon.
func miniupnpdInstalled() error {
	if _, err := exec.LookPath(miniupnpdBin); err != nil {
		return fmt.Errorf("%w: miniupnpd not installed (apt-get install miniupnpd-nftables): %w", ErrUnsupported, err)
	}
	return nil
}

// mappedRuleset is a Mapped router's nftables ruleset: the symmetric
// NAT's (for the LAN's packets only: the router's own STUN requests must
// keep their ports), STUN answers to the router itself admitted, forwarded packets
// that miniupnpd's DNAT rules redirected admitted, and the empty chains
// miniupnpd fills.
func mappedRuleset() string {
	var b strings.Builder
	b.WriteString(udpBlockRules(false))
	fmt.Fprintf(&b, `table ip %[1]s
delete table ip %[1]s
table ip %[1]s {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname %[2]q udp sport { %[4]d, %[5]d } accept
		iifname %[2]q ct state new drop
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct status dnat accept
		iifname %[3]q oifname %[2]q accept
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		iifname %[3]q oifname %[2]q masquerade fully-random
	}
}
table inet %[6]s
delete table inet %[6]s
table inet %[6]s {
	chain miniupnpd {
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump prerouting_miniupnpd
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		jump postrouting_miniupnpd
	}
	chain prerouting_miniupnpd {
	}
	chain postrouting_miniupnpd {
	}
}
`, natTable, wanDev, lanDev, stunPort, stunAltPort, upnpTable)
	return b.String()
}

// startPortMapping gives Mapped NAT n its STUN server and miniupnpd, and
// waits until miniupnpd serves. Both are closed at the lab's teardown.
func (l *Lab) startPortMapping(n *NAT) error {
	h, err := l.addPublicHost(n.name+"-st", 2)
	if err != nil {
		return err
	}
	stun, err := startSTUN(h)
	if err != nil {
		return err
	}
	l.addDaemon(stun)
	d, err := startMiniupnpd(n, h.addrs[0])
	if err != nil {
		return err
	}
	l.addDaemon(d)
	return d.waitReady(miniupnpdReady)
}

// addDaemon has the lab close c at teardown, before the namespaces go.
func (l *Lab) addDaemon(c io.Closer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.daemons = append(l.daemons, c)
}

// createNAT is addNAT, and for a Mapped NAT also its port mapping; its
// error wraps ErrUnsupported when miniupnpd is not installed.
func (l *Lab) createNAT(name string, kind Kind) (*NAT, error) {
	if kind != Mapped {
		return l.addNAT(name, kind)
	}
	if err := miniupnpdInstalled(); err != nil {
		return nil, err
	}
	n, err := l.addNAT(name, kind)
	if err != nil {
		return nil, err
	}
	return n, l.startPortMapping(n)
}
