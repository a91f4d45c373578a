package natpunch

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
	typeProbe         byte = 0x01 // bridge → gateway: what address do you see?
	typeProbeResponse byte = 0x02 // gateway → bridge: this one
	typePunch         byte = 0x03 // bridge → bridge: opens NAT mappings; ignored on receipt
	typeRelay         byte = 0x04 // bridge ↔ gateway: a relayed QUIC packet
)

var magic = [2]byte{'P', 'B'}

const (
	headerLen = 3  // type + magic
	txnLen    = 12 // probe transaction ID
	// ProbeSize is the size of a probe. The response is never larger, so a
	// gateway cannot be used to amplify traffic.
	ProbeSize = 64
	// sessionLen is the size of a relay session ID.
	sessionLen = 8
	// relayOverhead is the relay header's size.
	relayOverhead = headerLen + sessionLen
	// addrLen is an encoded address: 16-byte IPv6 (or v4-mapped) + port.
	addrLen = 18
)

// errNotOurs marks a packet that is not one of ours; callers drop it.
var errNotOurs = errors.New("natpunch: not a peerbridge packet")

// probeFlagChange asks the gateway to answer from its other address.
const probeFlagChange byte = 1

// probe is a NAT probe.
type probe struct {
	txn   [txnLen]byte
	flags byte
}

func (p *probe) append(b []byte) []byte {
	b = append(b, typeProbe, magic[0], magic[1])
	b = append(b, p.txn[:]...)
	b = append(b, p.flags)
	return append(b, make([]byte, ProbeSize-headerLen-txnLen-1)...)
}

// probeResponse answers a probe: the address the probe came from, and the
// gateway's other address (invalid if it has none).
type probeResponse struct {
	txn      [txnLen]byte
	observed netip.AddrPort
	other    netip.AddrPort
}

const probeResponseSize = headerLen + txnLen + 2*addrLen

func (r *probeResponse) append(b []byte) []byte {
	b = append(b, typeProbeResponse, magic[0], magic[1])
	b = append(b, r.txn[:]...)
	b = appendAddr(b, r.observed)
	return appendAddr(b, r.other)
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

// packetType checks the header and returns the packet's type.
func packetType(b []byte) (byte, error) {
	if len(b) < headerLen || b[1] != magic[0] || b[2] != magic[1] || b[0] >= 0x40 {
		return 0, errNotOurs
	}
	return b[0], nil
}

// isType reports whether b has our header and type typ.
func isType(b []byte, typ byte) bool {
	t, err := packetType(b)
	return err == nil && t == typ
}

func parseProbe(b []byte) (probe, error) {
	var p probe
	if len(b) != ProbeSize || !isType(b, typeProbe) {
		return p, fmt.Errorf("natpunch: not a probe: %d bytes, want a probe header and %d", len(b), ProbeSize)
	}
	copy(p.txn[:], b[headerLen:])
	p.flags = b[headerLen+txnLen]
	return p, nil
}

func parseProbeResponse(b []byte) (probeResponse, error) {
	var r probeResponse
	if len(b) != probeResponseSize || !isType(b, typeProbeResponse) {
		return r, fmt.Errorf("natpunch: not a probe response: %d bytes, want its header and %d", len(b), probeResponseSize)
	}
	copy(r.txn[:], b[headerLen:])
	r.observed = parseAddr(b[headerLen+txnLen:])
	r.other = parseAddr(b[headerLen+txnLen+addrLen:])
	return r, nil
}

// appendPunch appends a punch packet: header and a little random-looking
// filler, so middleboxes see an ordinary small datagram.
func appendPunch(b []byte, filler []byte) []byte {
	b = append(b, typePunch, magic[0], magic[1])
	return append(b, filler...)
}

// sessionID names a relay session.
type sessionID [sessionLen]byte

func appendRelay(b []byte, s sessionID, inner []byte) []byte {
	b = append(b, typeRelay, magic[0], magic[1])
	b = append(b, s[:]...)
	return append(b, inner...)
}

func parseRelay(b []byte) (sessionID, []byte, error) {
	var s sessionID
	if len(b) <= relayOverhead || !isType(b, typeRelay) {
		return s, nil, fmt.Errorf("natpunch: not a relay packet: %d bytes, want its header and more than %d", len(b), relayOverhead)
	}
	copy(s[:], b[headerLen:])
	return s, b[relayOverhead:], nil
}
