package gateway

import "net/netip"

// otherFor returns the index of another listen address than i for a probe
// from from: one of from's address family if the gateway has one (a
// dual-stack gateway has addresses of both), else what other returns. A
// bridge compares the addresses its NAT maps it to toward both; across
// families they always differ, and would call every NAT symmetric.
func (g *Gateway) otherFor(i int, from netip.AddrPort) int {
	v4 := from.Addr().Unmap().Is4()
	for j, a := range g.addrs {
		ip := a.Addr().Unmap()
		if j != i && ip != g.addrs[i].Addr().Unmap() && !ip.IsUnspecified() && ip.Is4() == v4 {
			return j
		}
	}
	return g.other(i)
}
