package portmap

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// pmpMap maps UDP port internal on gw with NAT-PMP for lifetime seconds
// (0 deletes it), suggesting external port suggested.
func pmpMap(ctx context.Context, dial DialFunc, gw netip.Addr, internal, suggested uint16, lifetime uint32) (Mapping, error) {
	conn, _, err := dialRouter(ctx, dial, gw, Port)
	if err != nil {
		return Mapping{}, err
	}
	defer conn.Close()
	var ext PMPReply
	if lifetime > 0 {
		if ext, err = pmpAsk(ctx, conn, AppendPMPExternalRequest(nil), pmpReplyBit|pmpOpExternal); err != nil {
			return Mapping{}, err
		}
	}
	r, err := pmpAsk(ctx, conn, AppendPMPMapRequest(nil, internal, suggested, lifetime), pmpReplyBit|pmpOpMapUDP)
	if err != nil || lifetime == 0 {
		return Mapping{}, err
	}
	if r.InternalPort != internal || r.ExternalPort == 0 || !usable(ext.External) {
		return Mapping{}, fmt.Errorf("%w: NAT-PMP mapped port %d to %v:%d", ErrMalformed, r.InternalPort, ext.External, r.ExternalPort)
	}
	return Mapping{Protocol: NATPMP, External: netip.AddrPortFrom(ext.External, r.ExternalPort), Internal: internal, Lifetime: time.Duration(r.Lifetime) * time.Second}, nil
}

// pmpAsk sends req and returns the reply with opcode op.
func pmpAsk(ctx context.Context, conn net.Conn, req []byte, op uint8) (PMPReply, error) {
	var r PMPReply
	err := exchange(ctx, conn, req, func(b []byte) (bool, error) {
		got, err := ParsePMPReply(b)
		if err != nil || got.Op != op {
			return false, err
		}
		r = got
		return true, got.Err()
	})
	return r, err
}

// usable reports whether a router's external address can be a candidate.
func usable(a netip.Addr) bool {
	return a.Is4() && !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast()
}
