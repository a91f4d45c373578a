package portmap

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// pcpMap maps UDP port internal on gw with PCP for lifetime seconds (0
// deletes it), suggesting external port suggested. nonce identifies the
// mapping: a renewal or deletion repeats it.
func pcpMap(ctx context.Context, dial DialFunc, gw netip.Addr, nonce [NonceLen]byte, internal, suggested uint16, lifetime uint32) (Mapping, error) {
	conn, self, err := dialRouter(ctx, dial, gw, Port)
	if err != nil {
		return Mapping{}, err
	}
	defer conn.Close()
	var r PCPReply
	err = exchange(ctx, conn, AppendPCPMap(nil, self, nonce, internal, suggested, lifetime), func(b []byte) (bool, error) {
		got, err := ParsePCPReply(b)
		if err != nil {
			return false, err
		}
		if got.Result == 0 && (got.Op != pcpOpMap || got.Nonce != nonce || got.Protocol != protoUDP || got.InternalPort != internal) {
			return false, nil // not the answer to this request
		}
		r = got
		return true, got.Err()
	})
	if err != nil || lifetime == 0 {
		return Mapping{}, err
	}
	if r.ExternalPort == 0 || !usable(r.External) {
		return Mapping{}, fmt.Errorf("%w: PCP mapped port %d to %v:%d", ErrMalformed, internal, r.External, r.ExternalPort)
	}
	return Mapping{Protocol: PCP, External: netip.AddrPortFrom(r.External, r.ExternalPort), Internal: internal, Lifetime: time.Duration(r.Lifetime) * time.Second}, nil
}

// pcpAnnounce reports whether gw answers a PCP ANNOUNCE with success.
func pcpAnnounce(ctx context.Context, dial DialFunc, gw netip.Addr) error {
	conn, self, err := dialRouter(ctx, dial, gw, Port)
	if err != nil {
		return err
	}
	defer conn.Close()
	return exchange(ctx, conn, AppendPCPAnnounce(nil, self), func(b []byte) (bool, error) {
		got, err := ParsePCPReply(b)
		if err != nil || got.Op != pcpOpAnnounce {
			return false, err
		}
		return true, got.Err()
	})
}

// pmpProbe reports whether gw answers a NAT-PMP address request with
// success.
func pmpProbe(ctx context.Context, dial DialFunc, gw netip.Addr) error {
	conn, _, err := dialRouter(ctx, dial, gw, Port)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = pmpAsk(ctx, conn, AppendPMPExternalRequest(nil), pmpReplyBit|pmpOpExternal)
	return err
}
