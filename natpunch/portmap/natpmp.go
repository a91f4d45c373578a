package portmap

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// NAT-PMP (RFC 6886): a router listens on UDP port 5351 of its LAN
// address. A request is version 0 and an opcode; a reply is version 0,
// the opcode plus 128, a result code and the seconds since the router's
// table was last reset (its epoch).
const (
	// Port is the UDP port NAT-PMP and PCP routers listen on.
	Port = 5351

	pmpVersion       = 0
	pmpOpExternal    = 0
	pmpOpMapUDP      = 1
	pmpReplyBit      = 128
	pmpExternalLen   = 12
	pmpMapLen        = 16
	pmpMapRequestLen = 12

	pmpUnsupportedVersion = 1
	pmpUnsupportedOpcode  = 5
)

// PMPReply is a NAT-PMP reply: to an external address request (Op 128:
// External set) or to a UDP mapping request (Op 129: the ports and
// lifetime set).
type PMPReply struct {
	Op           uint8
	Result       uint16
	Epoch        uint32
	External     netip.Addr
	InternalPort uint16
	ExternalPort uint16
	Lifetime     uint32
}

// AppendPMPExternalRequest appends a request for the router's public
// address.
func AppendPMPExternalRequest(b []byte) []byte {
	return append(b, pmpVersion, pmpOpExternal)
}

// AppendPMPMapRequest appends a request to map UDP port internal for
// lifetime seconds, asking for external port suggested (0: any). A
// lifetime of 0 deletes the mapping.
func AppendPMPMapRequest(b []byte, internal, suggested uint16, lifetime uint32) []byte {
	b = append(b, pmpVersion, pmpOpMapUDP, 0, 0)
	b = binary.BigEndian.AppendUint16(b, internal)
	b = binary.BigEndian.AppendUint16(b, suggested)
	return binary.BigEndian.AppendUint32(b, lifetime)
}

// ParsePMPReply decodes a NAT-PMP reply. A reply with a non-zero result
// decodes without error when it has the common header; the caller checks
// Result (see Err).
func ParsePMPReply(b []byte) (PMPReply, error) {
	if len(b) < 8 {
		return PMPReply{}, fmt.Errorf("%w: NAT-PMP reply of %d bytes", ErrTruncated, len(b))
	}
	r := PMPReply{Op: b[1], Result: binary.BigEndian.Uint16(b[2:]), Epoch: binary.BigEndian.Uint32(b[4:])}
	switch {
	case b[0] != pmpVersion:
		return PMPReply{}, fmt.Errorf("%w: NAT-PMP version %d", ErrMalformed, b[0])
	case r.Op != pmpReplyBit|pmpOpExternal && r.Op != pmpReplyBit|pmpOpMapUDP:
		return PMPReply{}, fmt.Errorf("%w: NAT-PMP opcode %d", ErrMalformed, r.Op)
	case r.Result != 0:
		return r, nil
	case r.Op == pmpReplyBit|pmpOpExternal:
		if len(b) < pmpExternalLen {
			return PMPReply{}, fmt.Errorf("%w: NAT-PMP address reply of %d bytes", ErrTruncated, len(b))
		}
		r.External = netip.AddrFrom4([4]byte(b[8:12]))
	default:
		if len(b) < pmpMapLen {
			return PMPReply{}, fmt.Errorf("%w: NAT-PMP mapping reply of %d bytes", ErrTruncated, len(b))
		}
		r.InternalPort = binary.BigEndian.Uint16(b[8:])
		r.ExternalPort = binary.BigEndian.Uint16(b[10:])
		r.Lifetime = binary.BigEndian.Uint32(b[12:])
	}
	return r, nil
}

// Err returns the reply's result as an error, nil for success.
func (r PMPReply) Err() error {
	if r.Result == 0 {
		return nil
	}
	return &ResultError{Protocol: NATPMP, Code: int(r.Result)}
}
