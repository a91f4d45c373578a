package gateway

import (
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// listenTCP binds the TCP relay's listen addresses given in
// Config.ListenTCP and serves on them. (Without them Start binds
// the relay beside each UDP address itself.)
func (g *Gateway) listenTCP() error {
	addrs := g.cfg.ListenTCP
	if slices.Contains(addrs, wire.TCPOff) {
		return nil
	}
	var lns []net.Listener
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return fmt.Errorf("gateway: gateway TCP relay on %s: %w", a, err)
		}
		lns = append(lns, ln)
	}
	return g.StartTCPOn(lns, nil)
}

// StartTCPOn serves the TCP relay on listeners the caller made, after
// StartOn; the gateway owns them. Listener i carries its clients to the
// gateway's UDP address i, or the first one past the last. listenUDP
// binds each client's loopback socket (nil: net.ListenUDP); tests pass one
// that binds in the gateway's network namespace.
func (g *Gateway) StartTCPOn(lns []net.Listener, listenUDP ListenUDPFunc) error {
	if listenUDP != nil {
		g.tcp.setListenUDP(listenUDP)
	}
	for i, ln := range lns {
		j := min(i, len(g.addrs)-1)
		// A client that has gone will not come back from its address: its
		// next connection, from a new one, must not wait for the old one's
		// idle timeout to be pooled.
		gone := func(addr netip.AddrPort) { g.conns[j].CloseFrom(addr) }
		if err := g.tcp.serve(ln, gatewayTarget(g.addrs[j]), gone); err != nil {
			for _, rest := range lns[i+1:] {
				rest.Close()
			}
			return fmt.Errorf("gateway: gateway TCP relay: %w", err)
		}
	}
	return nil
}

// onTCP reports whether addr is where a TCP relay client's datagrams come
// from. Such a node cannot be reached over UDP, so the gateway records it
// as behind a NAT admitting no stranger and refuses to time punches with it.
func (g *Gateway) onTCP(addr netip.AddrPort) bool { return g.tcp.owns(addr) }

// TCPStats returns how many TCP relay clients are connected, how many were
// accepted in all, and how many TCP connections the limits refused.
func (g *Gateway) TCPStats() (clients int, accepted, refused uint64) { return g.tcp.stats() }

// TCPAddrs returns the TCP relay's listen addresses.
func (g *Gateway) TCPAddrs() []string {
	g.tcp.mu.Lock()
	defer g.tcp.mu.Unlock()
	return append([]string(nil), g.tcp.addrs...)
}
