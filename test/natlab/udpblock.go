package natlab

import (
	"errors"
	"fmt"
	"strings"
)

// udpBlockTable is the routers' nftables table that drops forwarded UDP.
const udpBlockTable = "natlab_udpblock"

// udpBlockRules returns the nftables script that creates (blocked) or
// removes the table dropping every UDP packet the router forwards, either
// way. A dropped packet leaves no conntrack entry.
func udpBlockRules(blocked bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "table ip %s\ndelete table ip %s\n", udpBlockTable, udpBlockTable)
	if blocked {
		fmt.Fprintf(&b, `table ip %s {
	chain forward {
		type filter hook forward priority filter - 20; policy accept;
		meta l4proto udp drop
	}
}
`, udpBlockTable)
	}
	return b.String()
}

// SetUDPBlocked blocks or lifts the block on all UDP through a
// [Corporate] or [PortRestricted] NAT, turning one kind into the other
// without forgetting any mapping (TCP connections through it carry on).
func (n *NAT) SetUDPBlocked(blocked bool) error {
	n.hostsMu.Lock()
	defer n.hostsMu.Unlock()
	if n.kind != Corporate && n.kind != PortRestricted {
		return errors.New("natlab: SetUDPBlocked: only corporate and port-restricted NATs")
	}
	if err := nft(n.router, udpBlockRules(blocked)); err != nil {
		return err
	}
	n.kind = PortRestricted
	if blocked {
		n.kind = Corporate
	}
	return nil
}
