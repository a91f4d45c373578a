package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Non-QUIC packets share the QUIC socket. quic-go hands a packet to
// ReadNonQUICPacket only if its first two bits are 0, so every packet type
// here is a first byte below 0x40, followed by the magic "PB".
const (
	PacketProbe         byte = 0x01 // bridge → gateway: what address do you see?
	PacketProbeResponse byte = 0x02 // gateway → bridge: this one
	PacketPunch         byte = 0x03 // bridge → bridge: opens NAT mappings; ignored on receipt
	PacketRelay         byte = 0x04 // bridge ↔ gateway: a relayed QUIC packet
)

// Magic follows the type byte of every packet of ours, so that stray
// datagrams are told apart from ours.
var Magic = [2]byte{'P', 'B'}

const (
	HeaderLen = 3  // type + magic
	TxnLen    = 12 // probe transaction ID
	// ProbeSize is the size of a probe. The response is never larger, so a
	// gateway cannot be used to amplify traffic.
	ProbeSize = 64
	// SessionLen is the size of a relay session ID.
	SessionLen = 8
	// RelayOverhead is the relay header's size.
	RelayOverhead = HeaderLen + SessionLen
	// AddrLen is an encoded address: 16-byte IPv6 (or v4-mapped) + port.
	AddrLen = 18
)

// ErrNotOurs marks a packet that is not one of ours; callers drop it.
var ErrNotOurs = errors.New("wire: not a peerbridge packet")

// ProbeFlagChange asks the gateway to answer from its other address.
const ProbeFlagChange byte = 1

// Probe is a NAT Probe.
type Probe struct {
	Txn   [TxnLen]byte
	Flags byte
}

// Append appends the probe, padded to ProbeSize, to b.
func (p *Probe) Append(b []byte) []byte {
	b = append(b, PacketProbe, Magic[0], Magic[1])
	b = append(b, p.Txn[:]...)
	b = append(b, p.Flags)
	return append(b, make([]byte, ProbeSize-HeaderLen-TxnLen-1)...)
}

// ProbeResponse answers a probe: the address the probe came from, and the
// gateway's other address (invalid if it has none). Token, if not zero,
// is the gateway's proof that the prober receives packets at Observed
// (see ProbeFlagToken); it is sent only when asked for.
type ProbeResponse struct {
	Txn      [TxnLen]byte
	Observed netip.AddrPort
	Other    netip.AddrPort
	Token    [TokenLen]byte
}

// ProbeResponseSize is the size of a probe response without a token.
const ProbeResponseSize = HeaderLen + TxnLen + 2*AddrLen

// Append appends the response to b, with its token only if it has one.
func (r *ProbeResponse) Append(b []byte) []byte {
	b = append(b, PacketProbeResponse, Magic[0], Magic[1])
	b = append(b, r.Txn[:]...)
	b = appendAddr(b, r.Observed)
	b = appendAddr(b, r.Other)
	if r.Token != ([TokenLen]byte{}) {
		b = append(b, r.Token[:]...)
	}
	return b
}

func appendAddr(b []byte, a netip.AddrPort) []byte {
	ip := a.Addr().As16()
	if !a.IsValid() {
		ip = [16]byte{}
	}
	b = append(b, ip[:]...)
	return binary.BigEndian.AppendUint16(b, a.Port())
}

func parseAddr(b []byte) netip.AddrPort {
	ip := netip.AddrFrom16([16]byte(b[:16])).Unmap()
	port := binary.BigEndian.Uint16(b[16:])
	if ip.IsUnspecified() && port == 0 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ip, port)
}

// PacketType checks the header and returns the packet's type.
func PacketType(b []byte) (byte, error) {
	if len(b) < HeaderLen || b[1] != Magic[0] || b[2] != Magic[1] || b[0] >= 0x40 {
		return 0, ErrNotOurs
	}
	return b[0], nil
}

// IsType reports whether b has our header and type typ.
func IsType(b []byte, typ byte) bool {
	t, err := PacketType(b)
	return err == nil && t == typ
}

// ParseProbe reads a probe; anything but a whole probe is an error.
func ParseProbe(b []byte) (Probe, error) {
	var p Probe
	if len(b) != ProbeSize || !IsType(b, PacketProbe) {
		return p, fmt.Errorf("wire: not a probe: %d bytes, want a probe header and %d", len(b), ProbeSize)
	}
	copy(p.Txn[:], b[HeaderLen:])
	p.Flags = b[HeaderLen+TxnLen]
	return p, nil
}

// ParseProbeResponse reads a probe response, with or without a token;
// anything else is an error.
func ParseProbeResponse(b []byte) (ProbeResponse, error) {
	var r ProbeResponse
	if (len(b) != ProbeResponseSize && len(b) != ProbeResponseTokenSize) || !IsType(b, PacketProbeResponse) {
		return r, fmt.Errorf("wire: not a probe response: %d bytes, want its header and %d or %d", len(b), ProbeResponseSize, ProbeResponseTokenSize)
	}
	copy(r.Txn[:], b[HeaderLen:])
	r.Observed = parseAddr(b[HeaderLen+TxnLen:])
	r.Other = parseAddr(b[HeaderLen+TxnLen+AddrLen:])
	copy(r.Token[:], b[ProbeResponseSize:])
	return r, nil
}

// AppendPunch appends a punch packet: header and a little random-looking
// filler, so middleboxes see an ordinary small datagram.
func AppendPunch(b []byte, filler []byte) []byte {
	b = append(b, PacketPunch, Magic[0], Magic[1])
	return append(b, filler...)
}

// SessionID names a relay session.
type SessionID [SessionLen]byte

// AppendRelay appends a relay packet carrying inner, a QUIC packet, in
// session s to b.
func AppendRelay(b []byte, s SessionID, inner []byte) []byte {
	b = append(b, PacketRelay, Magic[0], Magic[1])
	b = append(b, s[:]...)
	return append(b, inner...)
}

// ParseRelay reads a relay packet's session and the QUIC packet it carries
// (a slice of b); a packet with nothing inside is an error.
func ParseRelay(b []byte) (SessionID, []byte, error) {
	var s SessionID
	if len(b) <= RelayOverhead || !IsType(b, PacketRelay) {
		return s, nil, fmt.Errorf("wire: not a relay packet: %d bytes, want its header and more than %d", len(b), RelayOverhead)
	}
	copy(s[:], b[HeaderLen:])
	return s, b[RelayOverhead:], nil
}
