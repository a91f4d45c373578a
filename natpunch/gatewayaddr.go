package natpunch

import (
	"net/netip"
	"sync/atomic"

	"github.com/peerbridge/peerbridge/connector"
)

// gatewayReach is the address a bridge reaches one gateway at. Probes,
// relay packets and the relay sessions' gateway address all use it, and
// the control connection is dialled there, so they share one address
// family and one NAT mapping. It follows the control connection: the
// gateway records the address it sees that connection come from, and
// relays only packets from there, and only from where the connection
// arrives does its answer come back (a dual-stack gateway known by an A and
// an AAAA record sees IPv6 where IPv4 was probed).
type gatewayReach struct {
	addr  atomic.Pointer[netip.AddrPort]   // nil: the configured address
	addrs atomic.Pointer[[]netip.AddrPort] // every address it is known at, best first; nil: the configured one
	name  bool                             // known by name: looked up again at every registration round
}

// candidates returns every address gw is known at, best first.
func (gw gatewayRef) candidates() []netip.AddrPort {
	if gw.reach != nil {
		if p := gw.reach.addrs.Load(); p != nil {
			return *p
		}
	}
	return []netip.AddrPort{gw.addr}
}

// at returns the gateway address to probe and relay through: the address
// of its live control connection, once a registration has seen one, or
// else the address it was configured or resolved at.
func (gw gatewayRef) at() netip.AddrPort {
	if gw.reach != nil {
		if p := gw.reach.addr.Load(); p != nil {
			return *p
		}
	}
	return gw.addr
}

// control returns the target to send gw's control requests to: its node
// ID at the address it is reached at, so that a new control connection is
// dialled where probes and relay packets go, not wherever the connector's
// resolver would pick for its name.
func (gw gatewayRef) control() connector.Target {
	if a := gw.at(); a.IsValid() {
		return connector.Target{NodeID: gw.target.NodeID, Endpoint: a.String()}
	}
	return gw.target
}

// followControl points gw's probes and relay packets at the address its
// pooled control connection runs to, if that is not where they go now: a
// connection that was already pooled, or was dialled by name, may run over
// another address or family than the one NAT traversal resolved. It
// reports whether the address changed.
func (cl *Client) followControl(gw gatewayRef) bool {
	if gw.reach == nil {
		return false
	}
	remote, ok := cl.controlRemote(gw)
	if !ok || remote == gw.at() {
		return false
	}
	cl.log.Info("gateway reached at another address than probed; probing and relaying there", "gateway", gw.target.String(), "from", gw.at().String(), "to", remote.String())
	cl.moveGateway(gw, remote)
	return true
}

// controlRemote returns the remote address of the pooled, non-relayed
// connection to gw.
func (cl *Client) controlRemote(gw gatewayRef) (netip.AddrPort, bool) {
	for _, p := range cl.c.Peers() {
		if p.Node == gw.target.NodeID && p.Pooled && p.Path != connector.PathRelayed && p.Remote.IsValid() {
			return unmapped(p.Remote), true
		}
	}
	return netip.AddrPort{}, false
}

// followAll follows every gateway's control connection (see
// followControl) and reports whether any gateway's address changed.
func (cl *Client) followAll() bool {
	moved := false
	for _, gw := range cl.gateways {
		moved = cl.followControl(gw) || moved
	}
	return moved
}

// sameFamily reports whether two addresses ("ip:port") are of one family:
// a registration seen over IPv6 can never show the IPv4 address a probe
// saw, so waiting for it to would be in vain.
func sameFamily(a, b string) bool {
	x, errX := netip.ParseAddrPort(a)
	y, errY := netip.ParseAddrPort(b)
	return errX == nil && errY == nil && x.Addr().Unmap().Is4() == y.Addr().Unmap().Is4()
}

// moveGateway makes to the address gw is reached at, and moves the relay
// sessions through gw's old address there: the gateway moves its side of
// them to where the bridge's next registration comes from, and sends their
// packets from its address there.
func (cl *Client) moveGateway(gw gatewayRef, to netip.AddrPort) {
	from := gw.at()
	gw.reach.addr.Store(&to)
	if n := cl.relay.moveGateway(from, to); n > 0 {
		cl.log.Debug("relay sessions follow the gateway", "gateway", gw.target.String(), "to", to.String(), "sessions", n)
	}
}
