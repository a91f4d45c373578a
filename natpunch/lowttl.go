package natpunch

import (
	"context"
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
// the peer about is gone. In a coordinated punch whichever side's first
// packet reaches the other's NAT first would do exactly that. So each side
// first sends a few punch packets with a small TTL: they pass its own NAT,
// which maps the flow toward the peer, and die in the network before they
// reach the peer's NAT. Only after lowTTLLead, when both sides' NATs have
// their mappings, do the full packets and the QUIC handshake go out; the
// peer's packets then arrive as replies to a flow that already exists.
const (
	// lowTTL passes a home router (and the host's own hop) and dies
	// before a NAT a few hops away sees it.
	lowTTL = 2
	// lowTTLPackets is how many low-TTL packets go to each address; more
	// than one in case the first is lost before the NAT.
	lowTTLPackets = 2
	// lowTTLLead is how long the full punch waits after the low-TTL
	// packets, covering the skew between the two sides' start times: the
	// gateway's timing error plus scheduling delays on a loaded host (60 ms
	// let a Docker host pair fall back to the relay now and then when the
	// NAT lab ran under a load of 4 on 2 cores).
	lowTTLLead = 150 * time.Millisecond
)

// openOwnNAT sends the low-TTL packets toward every address and waits
// lowTTLLead. Where the socket cannot set a TTL per packet it does nothing:
// the punch then runs as it would without it.
func (cl *Client) openOwnNAT(ctx context.Context, targets []netip.AddrPort) error {
	u, ok := udpSocket(cl.c.Transport().Conn)
	if !ok || len(targets) == 0 {
		return nil
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
	if !sent {
		return nil
	}
	return wait(ctx, lowTTLLead)
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
