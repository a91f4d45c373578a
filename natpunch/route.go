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
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

var _ connector.Router = (*Client)(nil)

// Route finds a path to id with the usable strategies, in order (see
// strategies): a direct dial to the addresses the gateway knows for it
// (public and local raced), a hole punch the gateway times, then a relay
// through the gateway. It returns the pooled connection the first one that
// works made. A relayed peer is then handed to the upgrade loop.
func (cl *Client) Route(ctx context.Context, id identity.NodeID, opts connector.NATOptions) (connector.Conn, error) {
	if l := cl.tcpLink(); l != nil { // tcprelay: UDP gets no answer, only the relay can work
		return cl.routeTCP(ctx, cl.gatewayAt(l.gw), id, opts)
	}
	gw, info, err := cl.findPeer(ctx, id, opts.RelayEndpoint)
	if err != nil {
		return connector.Conn{}, err
	}
	conn, s, err := cl.traverse(ctx, &attempt{gw: gw, id: id, info: info, opts: opts})
	if err != nil {
		return connector.Conn{}, err
	}
	if s.relayed {
		cl.startUpgrade(gw, id, opts)
	}
	return conn, nil
}

// directFirst reports whether a direct dial to rec is worth its timeout
// before a hole punch: rec's NAT is known to admit strangers, rec holds a
// port mapping on its router (which admits anyone at the mapped port), or
// rec is behind this node's own public address, so on a LAN with it.
// Otherwise the dial cannot be answered before a punch opens rec's NAT,
// and the punch tries rec's local addresses as well. The dial would also
// do harm: a NAT that takes the unsolicited packets into its own stack (a
// Docker host) records a connection for them and maps rec's next flow
// toward this node to another port, so the punch that follows cannot
// succeed. A peer whose filtering is unknown (its probe went unanswered,
// as on a loaded host or a lossy link, or its gateway has one address) is
// therefore punched, not dialled: the punch reaches an open peer too.
func (cl *Client) directFirst(rec wire.Record) bool {
	if rec.Open() || rec.Mapped.IsValid() { // portmap: a mapped port admits anyone
		return true
	}
	me := cl.Report()
	if me == nil {
		return false
	}
	public, err := netip.ParseAddrPort(me.Public)
	return err == nil && public.Addr() == rec.Observed.Addr()
}

// punchMayWork reports whether a hole punch with rec can succeed, as far
// as both NAT reports tell. It cannot when neither side admits strangers
// and one of them maps each destination to a new port: that side's port
// toward the other is unknown in advance, and the other side's NAT lets in
// only the port it sent to. Such pairs start on the relay at once; the
// upgrade loop still tries punching them, in case either NAT changes.
func (cl *Client) punchMayWork(rec wire.Record) bool {
	me := cl.Report()
	if me == nil || me.Filtering == wire.Unknown || rec.Filtering == wire.Unknown || rec.Filtering == "" {
		return true
	}
	if rec.Open() || me.Filtering == wire.FilteringIndependent {
		return true
	}
	if _, mapped := cl.PortMapping(); mapped || rec.Mapped.IsValid() { // portmap: the other side dials the mapped port
		return true
	}
	return !rec.Symmetric() && me.Mapping != wire.MappingDependent
}

// gatewayAt returns the configured gateway at addr (the first if none is).
func (cl *Client) gatewayAt(addr netip.AddrPort) gatewayRef {
	for _, gw := range cl.gateways {
		if gw.addr == addr || gw.at() == addr {
			return gw
		}
	}
	return cl.gateways[0]
}

// gatewayFor picks the gateway: the one named, else the first configured.
func (cl *Client) gatewayFor(named string) (gatewayRef, error) {
	if named != "" {
		t, err := connector.ParseTarget(named)
		if err != nil {
			return gatewayRef{}, err
		}
		for _, gw := range cl.gateways {
			if (t.NodeID == "" || t.NodeID == gw.target.NodeID) && (t.Endpoint == "" || t.Endpoint == gw.target.Endpoint) {
				return gw, nil
			}
		}
		return gatewayRef{}, fmt.Errorf("%w: relay %s is not a configured gateway", connector.ErrBadTarget, named)
	}
	if len(cl.gateways) == 0 {
		return gatewayRef{}, fmt.Errorf("%w: %w", connector.ErrUnknownPeer, errNoGateway)
	}
	return cl.liveGateways()[0], nil
}

// ask sends a control request to a gateway and decodes the answer into out.
func (cl *Client) ask(ctx context.Context, gw gatewayRef, typ string, in, out any) error {
	payload, err := wire.Encode(in)
	if err != nil {
		return err
	}
	r, err := cl.c.Request(ctx, connector.Outbound{Target: gw.control(), Type: typ, Payload: payload})
	if err != nil {
		var re *connector.RemoteError
		if errors.As(err, &re) && re.Code == connector.CodeNotFound {
			return fmt.Errorf("%w: %s", connector.ErrUnknownPeer, re.Text)
		}
		return err
	}
	return wire.Decode(r.Payload, out)
}

func (cl *Client) lookup(ctx context.Context, gw gatewayRef, id identity.NodeID) (wire.Record, error) {
	var info wire.PeerInfo
	if err := cl.ask(ctx, gw, wire.TypeLookup, &wire.NodeRequest{Node: string(id)}, &info); err != nil {
		return wire.Record{}, err
	}
	rec, _ := info.Record(id) // an address that does not parse is left out, as before
	return rec, nil
}

// direct races dials to every address and keeps the first that answers as
// the peer.
func (cl *Client) direct(ctx context.Context, id identity.NodeID, addrs []string) (connector.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, cl.cfg.DirectTimeout)
	defer cancel()
	return cl.race(ctx, id, addrs, connector.PathDirect)
}

// dialResult is how one dial of a race, or its wait for a better path,
// ended.
type dialResult struct {
	conn connector.Conn
	err  error
}

// race dials every address at once and returns the first connection that
// comes up. It also succeeds as soon as the pool holds a direct or punched
// connection to id, as when the peer's own dial to this node came first
// because both sides traverse at once; the connector signals it, nothing
// polls. Every goroutine it starts has ended when it returns.
func (cl *Client) race(ctx context.Context, id identity.NodeID, addrs []string, path connector.Path) (connector.Conn, error) {
	if len(addrs) == 0 {
		return connector.Conn{}, fmt.Errorf("%w: no address for %s", connector.ErrUnreachable, id.Short())
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dials := make(chan dialResult, len(addrs))
	delays := dialDelays(addrs) // ipv6: happy eyeballs
	for i, a := range addrs {
		go func() {
			err := wait(ctx, delays[i])
			var ua *net.UDPAddr
			if err == nil {
				ua, err = net.ResolveUDPAddr("udp", a)
			}
			var conn connector.Conn
			if err == nil {
				conn, err = cl.c.DialPath(ctx, nil, ua, id, path)
			}
			dials <- dialResult{conn, err}
		}()
	}
	better := make(chan dialResult, 1)
	go func() {
		conn, err := cl.c.WaitPath(ctx, id, beatsRelay)
		better <- dialResult{conn, err}
	}()
	pending, waiting := len(addrs), true
	defer func() {
		cancel()
		for range pending {
			<-dials
		}
		if waiting {
			<-better
		}
	}()
	var all []error
	for pending > 0 {
		select {
		case r := <-dials:
			pending--
			if r.err == nil {
				return r.conn, nil
			}
			all = append(all, r.err)
		case r := <-better:
			waiting = false
			if r.err == nil {
				return r.conn, nil
			}
			better = nil // ctx ended or the connector closed: the dials end too
		}
	}
	return connector.Conn{}, fmt.Errorf("%w: %w", connector.ErrUnreachable, errors.Join(all...))
}

// beatsRelay accepts a direct or punched path.
func beatsRelay(p connector.Path) bool { return p != connector.PathRelayed }

// punch asks the gateway to time a hole punch with id and carries out this
// side's part of the plan.
func (cl *Client) punch(ctx context.Context, gw gatewayRef, id identity.NodeID) (connector.Conn, error) {
	var plan wire.PunchPlan
	if err := cl.ask(ctx, gw, wire.TypePunchAsk, &wire.NodeRequest{Node: string(id)}, &plan); err != nil {
		return connector.Conn{}, err
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
func (cl *Client) relayTo(ctx context.Context, gw gatewayRef, id identity.NodeID) (connector.Conn, error) {
	var grant wire.RelayGrant
	if err := cl.ask(ctx, gw, wire.TypeRelayAsk, &wire.NodeRequest{Node: string(id)}, &grant); err != nil {
		return connector.Conn{}, err
	}
	if len(grant.Session) != wire.SessionLen {
		return connector.Conn{}, fmt.Errorf("natpunch: gateway granted a session of %d bytes", len(grant.Session))
	}
	s := wire.SessionID(grant.Session)
	if err := cl.relay.addSession(s, gw.at(), id, time.Now(), false); err != nil {
		return connector.Conn{}, err
	}
	return cl.c.DialPath(ctx, cl.relayTr, relayAddr{s}, id, connector.PathRelayed)
}
