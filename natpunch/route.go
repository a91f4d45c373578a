package natpunch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

var _ connector.Router = (*Client)(nil)

// Route finds a path to id, in order: a direct dial to the addresses the
// gateway knows for it (public and local raced), a hole punch the gateway
// times, then a relay through the gateway. The direct dial is left out when
// it cannot work (see directFirst). The connection it makes is in the
// connector's pool when it returns nil.
func (cl *Client) Route(ctx context.Context, id identity.NodeID, opts connector.NATOptions) error {
	gw, err := cl.gatewayFor(opts.RelayEndpoint)
	if err != nil {
		return err
	}
	if cl.OnTCP() { // tcprelay: UDP gets no answer, only the relay can work
		return cl.routeTCP(ctx, gw, id, opts)
	}
	info, err := cl.lookup(ctx, gw, id)
	if err != nil {
		return err
	}
	addrs := append([]string(nil), info.candidates()...)
	if opts.Endpoint != "" {
		addrs = append([]string{opts.Endpoint}, addrs...)
	}
	if opts.Endpoint != "" || opts.SkipHolePunch || cl.directFirst(info) {
		err = cl.direct(ctx, id, addrs)
		cl.trace(id, "direct", err)
		if err == nil {
			return nil
		}
	}
	if !opts.SkipHolePunch && cl.punchMayWork(info) {
		err = cl.punch(ctx, gw, id)
		cl.trace(id, "punch", err)
		if err == nil {
			return nil
		}
	}
	err = cl.relayTo(ctx, gw, id)
	cl.trace(id, "relay", err)
	if err != nil {
		return err
	}
	cl.startUpgrade(gw, id, opts)
	return nil
}

// directFirst reports whether a direct dial to rec is worth its timeout
// before a hole punch: rec's NAT admits strangers (or its filtering is
// unknown), or rec is behind this node's own public address, so on a LAN
// with it. Otherwise the dial cannot be answered before a punch opens
// rec's NAT, and the punch tries rec's local addresses as well. The dial
// would also do harm: a NAT that keeps state for the unsolicited packets
// may map this node's next flow to another port, spoiling the punch.
func (cl *Client) directFirst(rec record) bool {
	if rec.filtering != FilteringDependent {
		return true
	}
	me := cl.Report()
	if me == nil {
		return true
	}
	public, err := netip.ParseAddrPort(me.Public)
	return err != nil || public.Addr() == rec.observed.Addr()
}

// punchMayWork reports whether a hole punch with rec can succeed, as far
// as both NAT reports tell. It cannot when neither side admits strangers
// and one of them maps each destination to a new port: that side's port
// toward the other is unknown in advance, and the other side's NAT lets in
// only the port it sent to. Such pairs start on the relay at once; the
// upgrade loop still tries punching them, in case either NAT changes.
func (cl *Client) punchMayWork(rec record) bool {
	me := cl.Report()
	if me == nil || me.Filtering == Unknown || rec.filtering == Unknown || rec.filtering == "" {
		return true
	}
	if rec.open() || me.Filtering == FilteringIndependent {
		return true
	}
	return !rec.symmetric() && me.Mapping != MappingDependent
}

// gatewayFor picks the gateway: the one named, else the first configured.
func (cl *Client) gatewayFor(named string) (gateway, error) {
	if named != "" {
		t, err := connector.ParseTarget(named)
		if err != nil {
			return gateway{}, err
		}
		for _, gw := range cl.gateways {
			if (t.NodeID == "" || t.NodeID == gw.target.NodeID) && (t.Endpoint == "" || t.Endpoint == gw.target.Endpoint) {
				return gw, nil
			}
		}
		return gateway{}, fmt.Errorf("%w: relay %s is not a configured gateway", connector.ErrBadTarget, named)
	}
	if len(cl.gateways) == 0 {
		return gateway{}, fmt.Errorf("%w: %w", connector.ErrUnknownPeer, errNoGateway)
	}
	return cl.gateways[0], nil
}

// ask sends a control request to a gateway and decodes the answer into out.
func (cl *Client) ask(ctx context.Context, gw gateway, typ string, in, out any) error {
	payload, err := encode(in)
	if err != nil {
		return err
	}
	r, err := cl.c.Request(ctx, connector.Outbound{Target: gw.target, Type: typ, Payload: payload})
	if err != nil {
		var re *connector.RemoteError
		if errors.As(err, &re) && re.Code == connector.CodeNotFound {
			return fmt.Errorf("%w: %s", connector.ErrUnknownPeer, re.Text)
		}
		return err
	}
	return decode(r.Payload, out)
}

func (cl *Client) lookup(ctx context.Context, gw gateway, id identity.NodeID) (record, error) {
	var info peerInfo
	if err := cl.ask(ctx, gw, typeLookup, &nodeRequest{Node: string(id)}, &info); err != nil {
		return record{}, err
	}
	observed, _ := netip.ParseAddrPort(info.Observed)
	return record{id: id, observed: observed, local: info.Local, mapping: info.Mapping, filtering: info.Filtering}, nil
}

// direct races dials to every address and keeps the first that answers as
// the peer.
func (cl *Client) direct(ctx context.Context, id identity.NodeID, addrs []string) error {
	ctx, cancel := context.WithTimeout(ctx, cl.cfg.DirectTimeout)
	defer cancel()
	return cl.race(ctx, id, addrs, connector.PathDirect)
}

// race dials every address at once and keeps the first connection that
// comes up. It also succeeds as soon as the peer's own dial to this node
// has put a direct or punched connection in the pool, as happens when both
// sides traverse at once.
func (cl *Client) race(ctx context.Context, id identity.NodeID, addrs []string, path connector.Path) error {
	if len(addrs) == 0 {
		return fmt.Errorf("%w: no address for %s", connector.ErrUnreachable, id.Short())
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(addrs))
	for _, a := range addrs {
		go func() {
			ua, err := net.ResolveUDPAddr("udp", a)
			if err == nil {
				err = cl.c.DialPath(ctx, nil, ua, id, path)
			}
			errs <- err
		}()
	}
	// Every dial goroutine reports in before race returns.
	pending := len(addrs)
	defer func() {
		cancel()
		for range pending {
			<-errs
		}
	}()
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	var all []error
	for pending > 0 {
		select {
		case err := <-errs:
			pending--
			if err == nil {
				return nil
			}
			all = append(all, err)
		case <-t.C:
			if cl.hasBetterPath(id) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: %w", connector.ErrUnreachable, errors.Join(all...))
}

// pollEvery is how often a traversal step checks whether the pool already
// has the connection it is working for.
const pollEvery = 10 * time.Millisecond

// hasBetterPath reports whether the pool holds a direct or punched
// connection to id.
func (cl *Client) hasBetterPath(id identity.NodeID) bool {
	p, ok := cl.c.PathTo(id)
	return ok && p != connector.PathRelayed
}

// punch asks the gateway to time a hole punch with id and carries out this
// side's part of the plan.
func (cl *Client) punch(ctx context.Context, gw gateway, id identity.NodeID) error {
	var plan punchPlan
	if err := cl.ask(ctx, gw, typePunchAsk, &nodeRequest{Node: string(id)}, &plan); err != nil {
		return err
	}
	return cl.followPlan(ctx, id, plan)
}

func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// relayTo opens a relay session with id through gw and dials the peer over
// it: end-to-end QUIC inside the gateway's packets.
func (cl *Client) relayTo(ctx context.Context, gw gateway, id identity.NodeID) error {
	var grant relayGrant
	if err := cl.ask(ctx, gw, typeRelayAsk, &nodeRequest{Node: string(id)}, &grant); err != nil {
		return err
	}
	if len(grant.Session) != sessionLen {
		return fmt.Errorf("natpunch: gateway granted a session of %d bytes", len(grant.Session))
	}
	s := sessionID(grant.Session)
	if err := cl.relay.addSession(s, gw.addr, id, time.Now()); err != nil {
		return err
	}
	return cl.c.DialPath(ctx, cl.relayTr, relayAddr{s}, id, connector.PathRelayed)
}

// startUpgrade keeps trying, with backoff, to replace a relayed connection
// to id with a direct or punched one. New messages move to the better path
// once it is pooled; what is in flight on the relay finishes there.
func (cl *Client) startUpgrade(gw gateway, id identity.NodeID, opts connector.NATOptions) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.upgrading[id] {
		return
	}
	started := cl.goOwned(func() {
		defer func() {
			cl.mu.Lock()
			delete(cl.upgrading, id)
			cl.mu.Unlock()
		}()
		cl.upgrade(gw, id, opts)
	})
	if started {
		cl.upgrading[id] = true
	}
}

func (cl *Client) upgrade(gw gateway, id identity.NodeID, opts connector.NATOptions) {
	backoff := cl.cfg.UpgradeMin
	for range 1000 { // bounded; with backoff this spans days
		if err := wait(cl.ctx, backoff); err != nil {
			return
		}
		if p, ok := cl.c.PathTo(id); !ok || p != connector.PathRelayed {
			return // gone, or upgraded from the other side
		}
		ctx, cancel := context.WithTimeout(cl.ctx, cl.cfg.DirectTimeout+cl.cfg.PunchTimeout+5*time.Second)
		err := cl.tryUpgrade(ctx, gw, id, opts)
		cancel()
		cl.trace(id, "upgrade", err)
		if err == nil {
			cl.log.Info("relayed peer upgraded", "peer", id.Short())
			return
		}
		backoff = min(2*backoff, cl.cfg.UpgradeMax)
	}
}

func (cl *Client) tryUpgrade(ctx context.Context, gw gateway, id identity.NodeID, opts connector.NATOptions) error {
	info, err := cl.lookup(ctx, gw, id)
	if err != nil {
		return err
	}
	if opts.SkipHolePunch || cl.directFirst(info) {
		if err := cl.direct(ctx, id, info.candidates()); err == nil {
			return nil
		}
	}
	if opts.SkipHolePunch {
		return errors.New("natpunch: direct dial failed and hole punching is skipped")
	}
	return cl.punch(ctx, gw, id)
}
