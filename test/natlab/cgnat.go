package natlab

import (
	"fmt"
)

// AddNAT puts another NAT behind n, as a carrier-grade NAT (CGNAT) has
// home routers behind it: the new router's public side is an address on
// n's LAN, with a default route through n, and it has a LAN of its own
// (the next 198.19.N.0/24) for the hosts added to it. Several NATs may sit
// behind one, as many homes share one carrier NAT. n must not be [None];
// a [FullCone] n takes one, like one host. The new NAT's PublicAddr is its
// address on n's LAN: what the world sees is n's.
func (n *NAT) AddNAT(name string, kind Kind) *NAT {
	n.lab.tb.Helper()
	inner, err := n.addNAT(name, kind)
	if err != nil {
		n.lab.tb.Fatalf("%v", err)
	}
	return inner
}

func (n *NAT) addNAT(name string, kind Kind) (*NAT, error) {
	switch {
	case n.kind == None:
		return nil, fmt.Errorf("natlab: NAT %s: a none NAT has no LAN to put a NAT behind", n.name)
	case kind != FullCone && kind != PortRestricted && kind != Symmetric && kind != DockerHost:
		return nil, fmt.Errorf("natlab: NAT %s behind %s: kind %q cannot be nested", name, n.name, kind)
	}
	var lan int
	ns, wan, _, err := n.attachLAN(name, func(l *Lab) error {
		if l.nextLAN > maxLANs {
			return fmt.Errorf("natlab: out of LANs in 198.19.0.0/16")
		}
		lan = l.nextLAN
		l.nextLAN++
		return nil
	})
	if err != nil {
		return nil, err
	}
	inner := &NAT{lab: n.lab, name: name, kind: kind, router: ns, public: wan, lan: lan}
	return inner, inner.setupRouter()
}
