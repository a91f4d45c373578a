package natpunch

import "net/netip"

// moveGateway moves every relay session through the gateway at from to
// the gateway's address to, and reports how many moved.
func (c *relayConn) moveGateway(from, to netip.AddrPort) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, sess := range c.sessions {
		if sess.gw == from {
			sess.gw = to
			n++
		}
	}
	return n
}
