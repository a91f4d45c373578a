package wire

import (
	"net/netip"
)

// A dual-stack bridge reaches its gateway over one address family (its
// control connection), so the gateway sees its address in that family
// only. Its address in the other family is learnt from a probe answered
// with a token: the gateway's MAC of the address it saw the probe come
// from. A bridge that quotes the token in its registration has received
// what the gateway sent to that address, so the gateway can hand the
// address to peers as it hands out the observed one: a key can name only
// addresses at which it receives packets, never a third party's.

// ProbeFlagToken asks the gateway to add a token to its answer.
const ProbeFlagToken byte = 2

const (
	// TokenLen is the size of a probe answer's token.
	TokenLen = 8
	// ProbeResponseTokenSize is the size of a probe answer with a token;
	// still smaller than the probe.
	ProbeResponseTokenSize = ProbeResponseSize + TokenLen
	// MaxReflexive bounds the reflexive addresses of a registration, a
	// record and a punch plan: one per address family.
	MaxReflexive = 2
)

// Reflexive is an address of a bridge's other address family with the
// token the gateway's probe answer to it carried.
type Reflexive struct {
	Addr  string `msgpack:"addr"`
	Token []byte `msgpack:"token"`
}

// ParseReflexive parses the reflexive addresses of a peer record or punch
// plan: valid, unmapped, at most MaxReflexive; the rest are left out.
func ParseReflexive(ss []string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range ss {
		ap, err := netip.ParseAddrPort(s)
		if err != nil || ap.Port() == 0 || len(out) == MaxReflexive {
			continue
		}
		out = append(out, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
	}
	return out
}

// ReflexiveStrings renders addresses for PeerInfo and PunchPlan.
func ReflexiveStrings(aps []netip.AddrPort) []string {
	var out []string
	for _, ap := range aps {
		out = append(out, ap.String())
	}
	return out
}
