package natpunch

import (
	"crypto/rand"
	"net"
	"net/netip"
	"time"

	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// Opening this side's NAT before the peer's packets arrive.
//
// A NAT that takes an unsolicited packet into its own stack (a Linux
// masquerade host with no input firewall, as Docker hosts are) records a
// connection for it, and the next outbound flow toward the packet's sender
// is then mapped to another port: the mapping the gateway observed and told
// the peer about is gone. So each side first sends a few punch packets with
// a small TTL: they pass its own NAT, which maps the flow toward the peer,
// and die in the network before they reach the peer's NAT. The order of the
// two sides' first full packets is then kept by the punch's protocol, not
// by clocks (see followPlan): the notified side opens its NAT before the
// asker can start, and sends full packets only once the asker's arrive.
const (
	// lowTTL passes a home router (and the host's own hop) and dies
	// before a NAT a few hops away sees it. It cannot be smaller: a
	// packet that dies at the NAT itself is dropped before the NAT maps
	// it. Two NATs on one segment (no router between them) are within
	// its reach, and no TTL keeps them apart.
	lowTTL = 2
	// lowTTLPackets is how many low-TTL packets go to each address; more
	// than one in case the first is lost before the NAT.
	lowTTLPackets = 3
	// lowTTLLead is part of the notified side's longest wait for the
	// asker's first packet: an asker that does not yet punch at once (an
	// older bridge) sends it lowTTLLead after its low-TTL packets.
	lowTTLLead = 150 * time.Millisecond
	// heardWait bounds how much longer the notified side waits for the
	// asker's first punch packet. The asker starts after the notified
	// side: its answer comes only after the notified side's
	// acknowledgement, later still on a loaded host or after a lost
	// packet's retransmission (in the NAT lab under a load of 12 on 2
	// cores its first packet came up to 210 ms after the notified side's
	// planned start, past the 150 ms the order once relied on). The
	// notified side's full packets must not reach the asker's NAT before
	// the asker's own packets left it. The wait ends early whenever the
	// asker's packets can arrive; it runs out only where they cannot
	// before this side sends: behind a second NAT outside this side's own,
	// which the low-TTL packets do not reach (a carrier-grade NAT), whose
	// first contact it delays by as much.
	heardWait = 500 * time.Millisecond
)

// openOwnNAT sends the low-TTL packets toward every address, without
// waiting, and reports whether it sent any. Where the socket cannot set a
// TTL per packet it sends nothing: the punch then runs as it would without
// it.
func (cl *Client) openOwnNAT(targets []netip.AddrPort) bool {
	u, ok := udpSocket(cl.c.Transport().Conn)
	if !ok || len(targets) == 0 {
		return false
	}
	filler := make([]byte, 8)
	sent := false
	for range lowTTLPackets {
		rand.Read(filler)
		pkt := wire.AppendPunch(nil, filler)
		for _, ap := range targets {
			if writeWithTTL(u, pkt, ap, lowTTL) == nil {
				sent = true
				cl.sent.packets.Add(1)
				cl.sent.bytes.Add(uint64(len(pkt)))
			}
		}
	}
	return sent
}

// udpSocket returns the UDP socket under a transport's connection: the
// connection itself, or what the connector's wrapper (which takes the
// non-QUIC packets off it) gives as its Socket.
func udpSocket(pc net.PacketConn) (*net.UDPConn, bool) {
	switch c := pc.(type) {
	case *net.UDPConn:
		return c, true
	case interface{ Socket() *net.UDPConn }:
		return c.Socket(), true
	}
	return nil, false
}
