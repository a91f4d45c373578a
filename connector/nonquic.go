package connector

import (
	"net"
	"net/netip"
	"sync/atomic"

	"golang.org/x/net/ipv4"
)

// NonQUICHandler takes a packet that is not QUIC (its first two bits are
// 0: probes, punches and relayed packets of NAT traversal) as it comes off
// the socket. It runs on the socket's reading goroutine, so it must not
// block, and b is valid only until it returns.
type NonQUICHandler func(from netip.AddrPort, b []byte)

// SetNonQUICHandler hands every non-QUIC packet to h from now on; nil
// gives them back to quic-go's ReadNonQUICPacket. Call it after Start.
//
// quic-go queues at most 32 non-QUIC packets for ReadNonQUICPacket and
// drops the rest without a count, so a relayed connection whose reader
// falls behind for a millisecond loses packets and its congestion window.
// A handler takes them before that queue.
func (c *Connector) SetNonQUICHandler(h NonQUICHandler) {
	if h == nil {
		c.sock.handler.Store(nil)
		return
	}
	c.sock.handler.Store(&h)
}

// filterConn is the UDP socket as quic-go sees it. It keeps every
// optimisation of a *net.UDPConn (batched reads, GSO, ECN, DF) and reads
// the batches itself (quic-go uses ReadBatch when the socket has one), so
// that it can take the non-QUIC packets out.
type filterConn struct {
	*net.UDPConn
	batch   *ipv4.PacketConn // the same socket; its ReadBatch is recvmmsg
	handler atomic.Pointer[NonQUICHandler]
}

// Socket returns the UDP socket itself, for what sets options per packet
// (natpunch's low-TTL punches); it is Transport().Conn's way to it.
func (c *filterConn) Socket() *net.UDPConn { return c.UDPConn }

func newFilterConn(udp *net.UDPConn) *filterConn {
	return &filterConn{UDPConn: udp, batch: ipv4.NewPacketConn(udp)}
}

// ReadBatch reads packets into ms and returns the QUIC ones, moved to the
// front, after handing the others to the handler. It returns at least one
// packet or an error: quic-go takes 0 as nothing read.
func (c *filterConn) ReadBatch(ms []ipv4.Message, flags int) (int, error) {
	for {
		n, err := c.batch.ReadBatch(ms, flags)
		h := c.handler.Load()
		if err != nil || h == nil {
			return n, err
		}
		if kept := c.filter(*h, ms[:n]); kept > 0 {
			return kept, nil
		}
	}
}

// filter hands the non-QUIC packets of ms to h, moves the others to the
// front and returns how many those are.
func (c *filterConn) filter(h NonQUICHandler, ms []ipv4.Message) int {
	kept := 0
	for i := range ms {
		m := &ms[i]
		b := m.Buffers[0][:m.N]
		if len(b) > 0 && b[0]&0xc0 == 0 {
			if ua, ok := m.Addr.(*net.UDPAddr); ok {
				h(ua.AddrPort(), b)
			}
			continue
		}
		if i != kept {
			moveMessage(&ms[kept], m)
		}
		kept++
	}
	return kept
}

// moveMessage copies src's packet into dst. The buffers stay where they
// are: quic-go knows each message's buffer by its index.
func moveMessage(dst, src *ipv4.Message) {
	dst.N = copy(dst.Buffers[0], src.Buffers[0][:src.N])
	dst.NN = copy(dst.OOB, src.OOB[:src.NN])
	dst.Flags, dst.Addr = src.Flags, src.Addr
}

// ReadFrom is how quic-go reads where it has no batched reads (Windows):
// the same filter, one packet at a time.
func (c *filterConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.UDPConn.ReadFrom(p)
		h := c.handler.Load()
		if err != nil || h == nil || n == 0 || p[0]&0xc0 != 0 {
			return n, addr, err
		}
		if ua, ok := addr.(*net.UDPAddr); ok {
			(*h)(ua.AddrPort(), p[:n])
		}
	}
}
