package portmap

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// PCP (RFC 6887) shares NAT-PMP's port: every message has a 24-byte
// header (version 2, a response bit and opcode, a lifetime and, in a
// request, the client's address, in a response the result code and the
// router's epoch), then the opcode's fields. ANNOUNCE has none; MAP has
// 36 bytes: a nonce, a protocol, the internal port and the external
// port and address (suggested in a request, assigned in a response).
const (
	pcpVersion    = 2
	pcpOpAnnounce = 0
	pcpOpMap      = 1
	pcpReplyBit   = 0x80
	pcpHeaderLen  = 24
	pcpMapLen     = 36
	protoUDP      = 17

	// NonceLen is the length of a PCP mapping nonce.
	NonceLen = 12

	pcpUnsuppVersion = 1
	pcpUnsuppOpcode  = 4
)

// PCPReply is a PCP response: ANNOUNCE (Op 0) or MAP (Op 1, the mapping
// fields set).
type PCPReply struct {
	Op       uint8
	Result   uint8
	Lifetime uint32
	Epoch    uint32
	Nonce    [NonceLen]byte
	Protocol uint8
	// InternalPort, ExternalPort and External are the MAP fields.
	InternalPort uint16
	ExternalPort uint16
	External     netip.Addr
}

// AppendPCPAnnounce appends an ANNOUNCE request from client: a router
// that speaks PCP answers it, which is how a PCP router is found.
func AppendPCPAnnounce(b []byte, client netip.Addr) []byte {
	return appendPCPHeader(b, pcpOpAnnounce, 0, client)
}

// AppendPCPMap appends a MAP request from client for UDP port internal,
// for lifetime seconds (0 deletes the mapping), suggesting external port
// suggested (0: any). The same nonce must renew or delete the mapping.
func AppendPCPMap(b []byte, client netip.Addr, nonce [NonceLen]byte, internal, suggested uint16, lifetime uint32) []byte {
	b = appendPCPHeader(b, pcpOpMap, lifetime, client)
	b = append(b, nonce[:]...)
	b = append(b, protoUDP, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, internal)
	b = binary.BigEndian.AppendUint16(b, suggested)
	any4 := netip.IPv4Unspecified().As16() // ::ffff:0.0.0.0, no address suggested
	return append(b, any4[:]...)
}

func appendPCPHeader(b []byte, op uint8, lifetime uint32, client netip.Addr) []byte {
	b = append(b, pcpVersion, op, 0, 0)
	b = binary.BigEndian.AppendUint32(b, lifetime)
	a := client.As16() // IPv4 as ::ffff:a.b.c.d, as PCP wants
	return append(b, a[:]...)
}

// ParsePCPReply decodes a PCP response. A NAT-PMP router answers a PCP
// request with a version-0 reply of its own; that decodes as result
// "unsupported version", which matches ErrNoRouter. A reply with a
// non-zero result decodes without error when its header is whole; the
// caller checks Result (see Err).
func ParsePCPReply(b []byte) (PCPReply, error) {
	if len(b) >= 4 && b[0] == pmpVersion && b[1]&pmpReplyBit != 0 {
		return PCPReply{Op: b[1] &^ pmpReplyBit, Result: pcpUnsuppVersion}, nil
	}
	if len(b) < pcpHeaderLen {
		return PCPReply{}, fmt.Errorf("%w: PCP reply of %d bytes", ErrTruncated, len(b))
	}
	r := PCPReply{Op: b[1] &^ pcpReplyBit, Result: b[3], Lifetime: binary.BigEndian.Uint32(b[4:]), Epoch: binary.BigEndian.Uint32(b[8:])}
	switch {
	case b[0] != pcpVersion:
		return PCPReply{}, fmt.Errorf("%w: PCP version %d", ErrMalformed, b[0])
	case b[1]&pcpReplyBit == 0:
		return PCPReply{}, fmt.Errorf("%w: PCP request, not a response", ErrMalformed)
	case r.Op != pcpOpAnnounce && r.Op != pcpOpMap:
		return PCPReply{}, fmt.Errorf("%w: PCP opcode %d", ErrMalformed, r.Op)
	case r.Op == pcpOpAnnounce:
		return r, nil
	case len(b) < pcpHeaderLen+pcpMapLen:
		if r.Result != 0 {
			return r, nil // an error reply may leave the MAP fields out
		}
		return PCPReply{}, fmt.Errorf("%w: PCP MAP reply of %d bytes", ErrTruncated, len(b))
	}
	m := b[pcpHeaderLen:]
	r.Nonce = [NonceLen]byte(m[:NonceLen])
	r.Protocol = m[12]
	r.InternalPort = binary.BigEndian.Uint16(m[16:])
	r.ExternalPort = binary.BigEndian.Uint16(m[18:])
	r.External = netip.AddrFrom16([16]byte(m[20:36])).Unmap()
	return r, nil
}

// Err returns the reply's result as an error, nil for success.
func (r PCPReply) Err() error {
	if r.Result == 0 {
		return nil
	}
	return &ResultError{Protocol: PCP, Code: int(r.Result)}
}
