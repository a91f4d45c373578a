package natpunch

import (
	"net"
	"net/netip"
)

// unmapped turns an IPv4-mapped IPv6 address into plain IPv4.
func unmapped(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// ownSubnets returns the subnets of this host's interfaces other than
// loopback.
func ownSubnets() []netip.Prefix {
	addrs, err := interfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, p := range addrs {
		if !p.Addr().IsLoopback() {
			out = append(out, p.Masked())
		}
	}
	return out
}

// onSubnet reports whether ip is a unicast host address of one of the
// subnets: not the network's own address or its broadcast address.
func onSubnet(ip netip.Addr, subnets []netip.Prefix) bool {
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsMulticast() || ip.IsLoopback() {
		return false
	}
	for _, p := range subnets {
		if !p.Contains(ip) {
			continue
		}
		if ip.Is4() && p.Bits() < 31 && (ip == p.Addr() || ip == lastAddr(p)) {
			return false
		}
		return true
	}
	return false
}

// lastAddr returns the highest address of an IPv4 prefix: its broadcast.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// interfaceAddrs returns this host's interface addresses as prefixes.
func interfaceAddrs() ([]netip.Prefix, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		ones, bits := n.Mask.Size()
		if ip.Is4In6() {
			ip = ip.Unmap()
			if bits == 128 {
				ones -= 96
			}
		}
		out = append(out, netip.PrefixFrom(ip, ones))
	}
	return out, nil
}
