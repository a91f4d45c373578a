package natpunch

import (
	"context"
	"net/netip"
	"slices"
	"time"

	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// Dual stack. A bridge's control connection reaches a gateway over one
// address family, so the gateway sees the bridge's address in that family.
// Its address in the other family comes from a probe to the gateway's
// address of that family, answered with a token (wire.ProbeFlagToken) that
// the registration quotes: the gateway then hands that address to peers
// as it hands out the observed one. A peer's candidates of both families
// are raced in happy-eyeballs order (RFC 8305): IPv6 first, IPv4 after a
// head start.

const (
	// happyEyeballsDelay is IPv6's head start over IPv4 when a peer has
	// addresses of both families (RFC 8305 recommends 50-250 ms; 250 ms
	// is its Connection Attempt Delay, less suits a punch, whose packets
	// fly both ways anyway).
	happyEyeballsDelay = 100 * time.Millisecond
	// reflexiveTries and reflexiveWait bound the probe of the gateway's
	// other family per registration: about half a second if it never
	// answers.
	reflexiveTries = 2
	reflexiveWait  = 250 * time.Millisecond
)

// reflexiveFor probes gw, for its token, at its first address of each
// family other than the one its control connection runs over, and returns
// what the answers saw. A gateway that does not answer, or answers without
// a token (an older one), adds nothing.
func (cl *Client) reflexiveFor(ctx context.Context, gw gatewayRef) []wire.Reflexive {
	cur := gw.at()
	var out []wire.Reflexive
	for _, a := range cl.gatewayOrder(gw) {
		if a.Addr().Is4() == cur.Addr().Is4() || slices.ContainsFunc(out, func(r wire.Reflexive) bool { return sameFamily(r.Addr, a.String()) }) {
			continue
		}
		p := cl.prober()
		p.tries, p.wait = reflexiveTries, reflexiveWait
		r, _, err := p.ask(ctx, a, wire.ProbeFlagToken)
		if err != nil || r.Token == ([wire.TokenLen]byte{}) || !sameFamily(r.Observed.String(), a.String()) {
			cl.log.Debug("no address in the gateway's other family", "gateway", gw.target.String(), "at", a.String(), "err", err)
			continue
		}
		out = append(out, wire.Reflexive{Addr: unmapped(r.Observed).String(), Token: r.Token[:]})
	}
	return out
}

// registerAt registers reg with gw, with this bridge's address in gw's
// other family if a probe finds one. If the gateway does not answer at
// its current address, its other addresses are tried in turn, each
// once: a gateway whose IPv6 address cannot be reached is registered with
// over IPv4.
func (cl *Client) registerAt(gw gatewayRef, reg wire.Registration, want string) error {
	var err error
	for i, next := range cl.gatewayOrder(gw) {
		if next != gw.at() {
			cl.log.Info("trying the gateway's next address", "gateway", gw.target.String(), "from", gw.at().String(), "to", next.String(), "try", i+1, "err", err)
			cl.moveGateway(gw, next)
		}
		ctx, cancel := context.WithTimeout(cl.ctx, 2*reflexiveTries*reflexiveWait)
		reg.Reflexive = cl.reflexiveFor(ctx, gw)
		cancel()
		payload, perr := wire.Encode(&reg)
		if perr != nil {
			return perr
		}
		if err = cl.register(gw, payload, want); err == nil || !gatewayDown(err) || gw.reach == nil {
			return err
		}
	}
	return err
}

// gatewayOrder returns the addresses of gw this bridge's socket can send
// to, the current one first, then the others best first. A socket bound to
// an IPv4 address reaches only IPv4 ones, one bound to an IPv6 address only
// IPv6 ones; a socket bound to the unspecified address ([::], as bridges
// listen by default) is dual-stack.
func (cl *Client) gatewayOrder(gw gatewayRef) []netip.AddrPort {
	self := cl.c.Addr().Addr()
	usable := func(a netip.AddrPort) bool {
		return self.IsUnspecified() || self.Unmap().Is4() == a.Addr().Unmap().Is4()
	}
	cur := gw.at()
	var out []netip.AddrPort
	if usable(cur) {
		out = append(out, cur)
	}
	for _, a := range gw.candidates() {
		if a != cur && usable(a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		out = append(out, cur) // let the attempt say why it fails
	}
	return out
}

// targets is where this node may send to reach a peer (see reachable),
// with the peer's gateway-checked addresses of its other family right
// after the observed one, at most maxPunchAddrs in all.
func (cl *Client) targets(observed netip.AddrPort, reflexive []netip.AddrPort, claimed []string, subnets []netip.Prefix) []netip.AddrPort {
	out := cl.reachable(observed, claimed, subnets)
	at := min(len(out), 1)
	for _, r := range reflexive {
		if r = unmapped(r); r.IsValid() && !slices.Contains(out, r) {
			out = slices.Insert(out, at, r)
			at++
		}
	}
	return out[:min(len(out), maxPunchAddrs)]
}

// dialDelays returns how long each dial of a race waits before it starts:
// in happy-eyeballs order, IPv4 addresses wait happyEyeballsDelay when
// there is an IPv6 address to try first; otherwise nothing waits. Names
// (an explicit endpoint) do not wait.
func dialDelays(addrs []string) []time.Duration {
	delays := make([]time.Duration, len(addrs))
	has6 := slices.ContainsFunc(addrs, func(a string) bool {
		ap, err := netip.ParseAddrPort(a)
		return err == nil && !ap.Addr().Unmap().Is4()
	})
	if !has6 {
		return delays
	}
	for i, a := range addrs {
		if ap, err := netip.ParseAddrPort(a); err == nil && ap.Addr().Unmap().Is4() {
			delays[i] = happyEyeballsDelay
		}
	}
	return delays
}
