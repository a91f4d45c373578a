package natpunch

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// ResolveFunc looks a host name up and returns its addresses, best first
// (net.Resolver.LookupNetIP's order: RFC 6724, so IPv6 first where this
// host can reach IPv6).
type ResolveFunc func(ctx context.Context, host string) ([]netip.Addr, error)

const (
	// MaxGatewayAddrsPerFamily bounds the addresses of one gateway name
	// kept per address family.
	MaxGatewayAddrsPerFamily = 4
	// resolveTimeout bounds one lookup of a gateway's name.
	resolveTimeout = 5 * time.Second
)

// defaultResolve is net.DefaultResolver's LookupNetIP for both families.
func defaultResolve(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// resolveEndpoint returns the addresses of a gateway endpoint
// ("host:port"): the literal address, or every address the name resolves
// to, unmapped, without duplicates, in the resolver's order, at most
// MaxGatewayAddrsPerFamily of each family. name reports a name.
func (cl *Client) resolveEndpoint(ctx context.Context, endpoint string) (addrs []netip.AddrPort, name bool, err error) {
	if ap, err := netip.ParseAddrPort(endpoint); err == nil {
		return []netip.AddrPort{unmapped(ap)}, false, nil
	}
	host, portStr, err := net.SplitHostPort(endpoint)
	if err != nil {
		return nil, false, fmt.Errorf("natpunch: gateway %s: %w", endpoint, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, true, fmt.Errorf("natpunch: gateway %s: port %q: %w", endpoint, portStr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	ips, err := cl.cfg.Resolve(ctx, host)
	if err != nil {
		return nil, true, fmt.Errorf("natpunch: gateway %s: %w", endpoint, err)
	}
	var v4, v6 int
	for _, ip := range ips {
		ap := netip.AddrPortFrom(ip.Unmap(), uint16(port))
		n := &v6
		if ap.Addr().Is4() {
			n = &v4
		}
		if !ap.Addr().IsValid() || *n == MaxGatewayAddrsPerFamily || slices.Contains(addrs, ap) {
			continue
		}
		*n++
		addrs = append(addrs, ap)
	}
	if len(addrs) == 0 {
		return nil, true, fmt.Errorf("natpunch: gateway %s: no address", endpoint)
	}
	return addrs, true, nil
}

// reresolve looks the gateways known by name up again, at each
// registration round: a gateway that moved, or gained an address family,
// is followed. A gateway whose current address is no longer among its
// name's addresses moves to the first of them; a failed lookup keeps what
// was known.
func (cl *Client) reresolve(ctx context.Context) {
	for _, gw := range cl.gateways {
		if gw.reach == nil {
			continue
		}
		if !gw.reach.name {
			cl.reachable1st(gw)
			continue
		}
		addrs, _, err := cl.resolveEndpoint(ctx, gw.target.Endpoint)
		if err != nil {
			cl.log.Warn("gateway lookup failed; keeping its addresses", "gateway", gw.target.String(), "err", err)
			continue
		}
		gw.reach.addrs.Store(&addrs)
		if cur := gw.at(); !slices.Contains(addrs, cur) {
			cl.log.Info("gateway's name no longer resolves to its address", "gateway", gw.target.String(), "from", cur.String(), "to", addrs[0].String())
			cl.moveGateway(gw, addrs[0])
		}
		cl.reachable1st(gw)
	}
}

// reachable1st moves gw to its first address this bridge's socket can send
// to, if its current one is not (an IPv6 address for a socket bound to an
// IPv4 one), so the round's probe goes where the registration will.
func (cl *Client) reachable1st(gw gatewayRef) {
	if first := cl.gatewayOrder(gw)[0]; first != gw.at() {
		cl.moveGateway(gw, first)
	}
}
