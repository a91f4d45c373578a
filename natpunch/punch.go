package natpunch

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

const (
	// maxPunchDelay bounds the wait a punch plan may ask for.
	maxPunchDelay = 2 * time.Second
	// maxPunchAddrs bounds the addresses one punch sprays and dials: the
	// peer's observed address and a few on this node's own subnets.
	maxPunchAddrs = 4
	// sprayEvery is the interval between rounds of punch packets.
	sprayEvery = 20 * time.Millisecond
	// punchFillerLen is the random filler of a punch packet.
	punchFillerLen = 8
)

// A punch has two sides, and the order of their first packets matters.
// The gateway tells the notified side first and answers the asker only
// once the notified side has acknowledged. The notified side opens its
// own NAT with low-TTL packets before it acknowledges (see punchFor), so
// by the time the asker has its plan the notified side's mapping toward
// it exists, whatever the clocks say: at its planned moment the asker
// opens its own NAT and punches at once. The notified side sends nothing
// that reaches the asker's NAT until a punch packet from the asker arrived
// (so the asker's mapping exists too), or at most notifiedWait. Neither side's NAT therefore
// meets a packet from the other before its own mapping exists, which on a
// NAT that takes unsolicited packets into its own stack (a Docker host)
// would move the mapping the gateway told the peer about. The planned
// delays still set when each side starts, but no longer decide the order.

// followPlan carries out the asker's side of plan: at the planned moment
// it opens its own NAT and punches toward the peer's addresses from the
// connector's socket and, on the dialling side, opens QUIC; the other side
// waits for the peer's connection to arrive. It sprays and dials only the
// addresses punchTargets allows.
func (cl *Client) followPlan(ctx context.Context, id identity.NodeID, plan wire.PunchPlan) (connector.Conn, error) {
	delay := planDelay(plan)
	ctx, cancel := context.WithTimeout(ctx, delay+cl.cfg.PunchTimeout)
	defer cancel()
	targets := cl.punchTargets(plan, cl.cfg.LocalSubnets())
	if len(targets) == 0 {
		return connector.Conn{}, fmt.Errorf("%w: no address to punch toward %s", connector.ErrUnreachable, id.Short())
	}
	if !plan.Dial {
		cl.c.ExpectPath(id, connector.PathPunched)
	}
	if err := wait(ctx, delay); err != nil {
		return connector.Conn{}, err
	}
	cl.openOwnNAT(targets)
	return cl.punchNow(ctx, id, plan.Dial, targets)
}

// followNotified carries out the notified side's part of plan, whose NAT
// openOwnNAT opened before the gateway was answered (opened reports
// whether it could): at the planned moment it waits for the asker's first
// punch packet (heard closes then), or for maxWait (see notifiedWait) at
// most, then punches.
func (cl *Client) followNotified(ctx context.Context, id identity.NodeID, plan wire.PunchPlan, targets []netip.AddrPort, opened bool, heard <-chan struct{}, maxWait time.Duration) (connector.Conn, error) {
	delay := planDelay(plan)
	ctx, cancel := context.WithTimeout(ctx, delay+maxWait+cl.cfg.PunchTimeout)
	defer cancel()
	if len(targets) == 0 {
		return connector.Conn{}, fmt.Errorf("%w: no address to punch toward %s", connector.ErrUnreachable, id.Short())
	}
	if !plan.Dial {
		cl.c.ExpectPath(id, connector.PathPunched)
	}
	if err := wait(ctx, delay); err != nil {
		return connector.Conn{}, err
	}
	if opened {
		if err := waitHeard(ctx, heard, maxWait); err != nil {
			return connector.Conn{}, err
		}
	}
	return cl.punchNow(ctx, id, plan.Dial, targets)
}

// notifiedWait is how long the notified side, told of a punch by gw, waits
// after its planned moment for the asker's first packet at most:
// lowTTLLead plus heardWait plus two of its round trips to gw (the asker's
// answer waits for this side's acknowledgement, and the asker is as far
// from gw again). Where this node's own NAT maps each destination to a
// new port, the asker's packets cannot arrive before this side sends, so
// it waits only lowTTLLead.
func (cl *Client) notifiedWait(gw gatewayRef) time.Duration {
	if r := cl.Report(); r != nil && r.Mapping == wire.MappingDependent {
		return lowTTLLead
	}
	var rtt time.Duration
	if r, ok := cl.c.(rtter); ok {
		rtt, _ = r.RTT(gw.target.NodeID)
	}
	return lowTTLLead + heardWait + 2*min(rtt, maxPunchDelay)
}

// rtter is what *connector.Connector has beyond Connector that
// notifiedWait uses: a pooled peer's smoothed round-trip time.
type rtter interface {
	RTT(id identity.NodeID) (time.Duration, bool)
}

// waitHeard waits until heard closes or d passed.
func waitHeard(ctx context.Context, heard <-chan struct{}, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-heard:
	case <-t.C:
	}
	return nil
}

// planDelay is the plan's delay, within 0..maxPunchDelay.
func planDelay(plan wire.PunchPlan) time.Duration {
	return min(max(time.Duration(plan.DelayMs)*time.Millisecond, 0), maxPunchDelay)
}

// punchNow sprays punch packets toward targets until ctx ends and,
// if dial, races QUIC dials to them; otherwise it waits for the peer's
// connection to arrive.
func (cl *Client) punchNow(ctx context.Context, id identity.NodeID, dial bool, targets []netip.AddrPort) (connector.Conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	sprayed := make(chan struct{})
	go func() {
		defer close(sprayed)
		cl.spray(ctx, targets)
	}()
	defer func() { cancel(); <-sprayed }()
	if dial {
		addrs := make([]string, len(targets))
		for i, t := range targets {
			addrs[i] = t.String()
		}
		return cl.race(ctx, id, addrs, connector.PathPunched)
	}
	return cl.awaitPath(ctx, id)
}

// spray sends small punch packets to every target every sprayEvery until
// ctx ends or the punch's packet budget is spent: each opens this side's
// NAT toward the peer.
func (cl *Client) spray(ctx context.Context, targets []netip.AddrPort) {
	t := time.NewTicker(sprayEvery)
	defer t.Stop()
	filler := make([]byte, punchFillerLen)
	for range cl.cfg.PunchPackets / len(targets) {
		rand.Read(filler)
		pkt := wire.AppendPunch(nil, filler)
		for _, ap := range targets {
			if cl.writeTo(pkt, ap) == nil {
				cl.sent.packets.Add(1)
				cl.sent.bytes.Add(uint64(len(pkt)))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// awaitPath waits until the pool holds a non-relayed connection to id,
// which the connector signals when it pools one.
func (cl *Client) awaitPath(ctx context.Context, id identity.NodeID) (connector.Conn, error) {
	conn, err := cl.c.WaitPath(ctx, id, beatsRelay)
	if err != nil {
		return connector.Conn{}, fmt.Errorf("%w: no punched connection from %s: %w", connector.ErrUnreachable, id.Short(), err)
	}
	return conn, nil
}

// punchTargets returns the addresses a punch may send to: the address the
// gateway saw the peer's connection come from, which the peer cannot
// choose, and the peer's claimed local addresses only where they lie on
// one of this node's own subnets (a peer on the same LAN), at most
// maxPunchAddrs in all. Anything else a peer claims is left out and
// counted, so a punch cannot be aimed at a third party.
func (cl *Client) punchTargets(plan wire.PunchPlan, subnets []netip.Prefix) []netip.AddrPort {
	observed, _ := netip.ParseAddrPort(plan.Observed)
	return cl.targets(observed, wire.ParseReflexive(plan.Reflexive), plan.Addrs, subnets) // ipv6: targets adds the checked reflexive addresses
}

// reachable is where this node may send to reach a peer: the address a
// gateway saw the peer's authenticated connection come from, and the
// addresses the peer merely claims only where they are on one of this
// node's own subnets (a LAN they share) or on the very IP the gateway saw
// (another port of the peer's own router, as a port mapping it holds
// there is), at most maxPunchAddrs in all.
// Every other claim is left out and counted: a key cannot have this node
// send at addresses of its choosing.
func (cl *Client) reachable(observed netip.AddrPort, claimed []string, subnets []netip.Prefix) []netip.AddrPort {
	observed = unmapped(observed)
	var out []netip.AddrPort
	if observed.IsValid() {
		out = append(out, observed)
	}
	for _, a := range claimed {
		ap, err := netip.ParseAddrPort(a)
		ap = unmapped(ap)
		switch {
		case err == nil && ap == observed:
		case err == nil && len(out) < maxPunchAddrs && (onSubnet(ap.Addr(), subnets) || behindObserved(ap, observed)):
			out = append(out, ap)
		default:
			cl.sent.addrsRefused.Add(1)
		}
	}
	return out
}
