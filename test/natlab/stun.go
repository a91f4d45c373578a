package natlab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// STUN (RFC 5389) as much as miniupnpd's check of its own public address
// needs: a Binding request, optionally with RFC 5780's CHANGE-REQUEST, is
// answered with the sender's address, from the other address or port of
// the server when asked to.
const (
	stunPort      = 3478
	stunAltPort   = 3479
	stunCookie    = 0x2112A442
	stunHeaderLen = 20
	// stunMaxAttrs bounds the attributes of a request looked at.
	stunMaxAttrs = 16
)

// stunServer answers STUN on two addresses and two ports of a public
// host. Close stops it and waits for its goroutines.
type stunServer struct {
	conns [2][2]*net.UDPConn // by address, then port
	wg    sync.WaitGroup
}

// startSTUN serves STUN on h's first two addresses, ports 3478 and 3479.
func startSTUN(h *Host) (*stunServer, error) {
	if len(h.addrs) < 2 {
		return nil, fmt.Errorf("natlab: STUN server %s needs two addresses", h.ns)
	}
	s := &stunServer{}
	for i, a := range h.addrs[:2] {
		for j, p := range []uint16{stunPort, stunAltPort} {
			c, err := h.ListenUDP(netip.AddrPortFrom(a, p))
			if err != nil {
				s.Close()
				return nil, err
			}
			s.conns[i][j] = c
		}
	}
	for i := range 2 {
		for j := range 2 {
			s.wg.Go(func() { s.serve(i, j) })
		}
	}
	return s, nil
}

func (s *stunServer) serve(i, j int) {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conns[i][j].ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		changeIP, changePort, ok := parseSTUNRequest(buf[:n])
		if !ok {
			continue
		}
		ri, rj := i, j
		if changeIP {
			ri = 1 - i
		}
		if changePort {
			rj = 1 - j
		}
		s.conns[ri][rj].WriteToUDPAddrPort(stunAnswer(buf[8:20], from), from)
	}
}

// parseSTUNRequest reports whether b is a Binding request, and what its
// CHANGE-REQUEST asks.
func parseSTUNRequest(b []byte) (changeIP, changePort, ok bool) {
	if len(b) < stunHeaderLen || binary.BigEndian.Uint16(b) != 0x0001 || binary.BigEndian.Uint32(b[4:]) != stunCookie {
		return false, false, false
	}
	attrs := b[stunHeaderLen:]
	for range stunMaxAttrs {
		if len(attrs) < 4 {
			break
		}
		typ, l := binary.BigEndian.Uint16(attrs), int(binary.BigEndian.Uint16(attrs[2:]))
		if len(attrs) < 4+l {
			break
		}
		if typ == 0x0003 && l == 4 {
			changeIP, changePort = attrs[7]&4 != 0, attrs[7]&2 != 0
		}
		attrs = attrs[4+(l+3)/4*4:]
	}
	return changeIP, changePort, true
}

// stunAnswer is a Binding success response for transaction id, carrying
// from as MAPPED-ADDRESS and XOR-MAPPED-ADDRESS.
func stunAnswer(id []byte, from netip.AddrPort) []byte {
	b := binary.BigEndian.AppendUint16(nil, 0x0101)
	b = binary.BigEndian.AppendUint16(b, 24)
	b = binary.BigEndian.AppendUint32(b, stunCookie)
	b = append(b, id...)
	a := from.Addr().Unmap().As4()
	b = append(b, 0, 0x01, 0, 8, 0, 1)
	b = binary.BigEndian.AppendUint16(b, from.Port())
	b = append(b, a[:]...)
	b = append(b, 0, 0x20, 0, 8, 0, 1)
	b = binary.BigEndian.AppendUint16(b, from.Port()^uint16(stunCookie>>16))
	return binary.BigEndian.AppendUint32(b, binary.BigEndian.Uint32(a[:])^stunCookie)
}

// Close stops the server and waits for it.
func (s *stunServer) Close() error {
	var errs []error
	for _, row := range s.conns {
		for _, c := range row {
			if c != nil {
				errs = append(errs, c.Close())
			}
		}
	}
	s.wg.Wait()
	return errors.Join(errs...)
}
