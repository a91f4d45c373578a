package natpunch

import (
	"net"
)

// listenPair binds the UDP address a and, on the same IP, a socket on an
// ephemeral port for answering filtering probes.
func listenPair(a string) (u, alt *net.UDPConn, err error) {
	laddr, err := net.ResolveUDPAddr("udp", a)
	if err != nil {
		return nil, nil, err
	}
	if u, err = net.ListenUDP("udp", laddr); err != nil {
		return nil, nil, err
	}
	if alt, err = net.ListenUDP("udp", &net.UDPAddr{IP: laddr.IP, Zone: laddr.Zone}); err != nil {
		u.Close()
		return nil, nil, err
	}
	return u, alt, nil
}
