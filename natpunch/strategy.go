package natpunch

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// A strategy is one way to reach a peer. Route tries the usable ones in
// the order strategies lists them; the upgrade loop tries those that are
// not relayed while a peer is.
type strategy struct {
	// name is the step in Events: "direct", "punch", "relay".
	name string
	// relayed marks a strategy whose connection runs through a relay. A
	// first contact it makes starts the upgrade loop, which leaves it out.
	relayed bool
	// usable reports whether the strategy is worth trying for a.
	usable func(a *attempt) bool
	// connect reaches a.id and returns the peer's pooled connection.
	connect func(ctx context.Context, a *attempt) (connector.Conn, error)
}

// attempt is one traversal toward a peer: what the gateway knows of it and
// how the message asked to be routed.
type attempt struct {
	gw   gatewayRef
	id   identity.NodeID
	info wire.Record
	opts connector.NATOptions
	// upgrading is set in the upgrade loop: the peer is relayed.
	upgrading bool
}

// strategies lists the ways to reach a peer, best first. A new way is one
// entry here.
func (cl *Client) strategies() []strategy {
	return []strategy{
		{name: "direct", usable: cl.directUsable, connect: cl.directConnect},
		{name: "punch", usable: cl.punchUsable, connect: cl.punchConnect},
		{name: "relay", relayed: true, usable: always, connect: cl.relayConnect},
	}
}

// traverse tries the usable strategies in order, leaving out the relayed
// ones when upgrading, and returns the first connection made and the
// strategy that made it, or the last strategy's error. At first contact
// each step is traced.
func (cl *Client) traverse(ctx context.Context, a *attempt) (connector.Conn, strategy, error) {
	err := fmt.Errorf("%w: no traversal strategy for %s", connector.ErrUnreachable, a.id.Short())
	for _, s := range cl.strategies() {
		if !s.applies(a) {
			continue
		}
		var conn connector.Conn
		conn, err = s.connect(ctx, a)
		if !a.upgrading {
			cl.trace(a.id, s.name, err)
		}
		if err == nil {
			return conn, s, nil
		}
	}
	return connector.Conn{}, strategy{}, err
}

// applies reports whether traverse tries s for a: s is usable, and not
// relayed if a is an upgrade.
func (s strategy) applies(a *attempt) bool {
	return !(a.upgrading && s.relayed) && s.usable(a)
}

func always(*attempt) bool { return true }

// directUsable: an explicit endpoint is always dialled first, and so is a
// peer whose hole punch is skipped; otherwise only where directFirst says
// a dial can be answered.
func (cl *Client) directUsable(a *attempt) bool {
	return a.opts.Endpoint != "" || a.opts.SkipHolePunch || cl.directFirst(a.info)
}

// directConnect races dials to the explicit endpoint, if any (the local
// sender named it), the address the gateway saw the peer come from, the
// peer's mapped port on that same IP, and the peer's claimed local
// addresses that are on this node's own subnets:
// never at an address a peer merely names (see reachable).
func (cl *Client) directConnect(ctx context.Context, a *attempt) (connector.Conn, error) {
	addrs := cl.directAddrs(a, cl.cfg.LocalSubnets())
	return cl.direct(ctx, a.id, addrs)
}

// directAddrs are the addresses directConnect dials, given this node's
// subnets.
func (cl *Client) directAddrs(a *attempt, subnets []netip.Prefix) []string {
	var addrs []string
	if a.opts.Endpoint != "" {
		addrs = append(addrs, a.opts.Endpoint)
	}
	for _, ap := range cl.targets(a.info.Observed, a.info.Reflexive, a.info.Candidates(), subnets) { // portmap: Candidates adds the mapped port; ipv6: targets the checked reflexive ones
		addrs = append(addrs, ap.String())
	}
	return addrs
}

// punchUsable: unless skipped, a first contact punches where punchMayWork
// says it can; the upgrade loop punches anyway, in case a NAT changed.
func (cl *Client) punchUsable(a *attempt) bool {
	return !a.opts.SkipHolePunch && (a.upgrading || cl.punchMayWork(a.info))
}

func (cl *Client) punchConnect(ctx context.Context, a *attempt) (connector.Conn, error) {
	return cl.punch(ctx, a.gw, a.id)
}

func (cl *Client) relayConnect(ctx context.Context, a *attempt) (connector.Conn, error) {
	return cl.relayTo(ctx, a.gw, a.id)
}
