package connector

import (
	"net"
	"net/netip"
)

// CloseFrom closes every connection whose peer is at addr and reports how
// many it closed. A transport that knows an address is gone for good (a
// TCP relay client of a gateway that disconnected) calls it, so that the
// peer's next connection, from another address, is the one pooled rather
// than a dead one that would linger until its idle timeout.
func (c *Connector) CloseFrom(addr netip.AddrPort) int {
	var gone []*peerConn
	c.pool.mu.Lock()
	for pc := range c.pool.all {
		if ua, ok := pc.qc.RemoteAddr().(*net.UDPAddr); ok && unmapped(ua.AddrPort()) == unmapped(addr) {
			gone = append(gone, pc)
		}
	}
	c.pool.mu.Unlock()
	for _, pc := range gone {
		pc.close(codeDead, "peer address gone")
	}
	return len(gone)
}

func unmapped(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}
