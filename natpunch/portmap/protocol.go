package portmap

import (
	"net/netip"
	"strings"
	"time"
)

// Protocol is a way to ask a router for a mapping.
type Protocol string

// The protocols, in the order a Mapper tries them.
const (
	PCP    Protocol = "PCP"
	NATPMP Protocol = "NAT-PMP"
	UPnP   Protocol = "UPnP"
)

// AllProtocols lists every protocol, in the order a Mapper tries them.
func AllProtocols() []Protocol { return []Protocol{PCP, NATPMP, UPnP} }

// Mapping is a port mapping a router granted.
type Mapping struct {
	Protocol Protocol
	// External is the router's public address and port that reach the
	// mapped port.
	External netip.AddrPort
	// Internal is the mapped port on this host.
	Internal uint16
	// Lifetime is what the router granted, from when it answered.
	Lifetime time.Duration
}

// Offers says which protocols a router answered.
type Offers struct {
	UPnP, NATPMP, PCP bool
}

// String lists the protocols offered as tailscale netcheck does
// ("UPnP, NAT-PMP, PCP"), or "none".
func (o Offers) String() string {
	var names []string
	for _, p := range []struct {
		on   bool
		name Protocol
	}{{o.UPnP, UPnP}, {o.NATPMP, NATPMP}, {o.PCP, PCP}} {
		if p.on {
			names = append(names, string(p.name))
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
