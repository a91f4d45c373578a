package gateway

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// maxNodeRequest bounds a lookup, punch or relay request's payload,
// checked before it is decoded: it names one node ID.
const maxNodeRequest = 256

// handler serves control requests arriving on listen address i. Each
// operation is rate-limited per key and in total before it does any work.
func (g *Gateway) handler(i int) connector.Handler {
	return connector.HandlerFunc(func(ctx context.Context, m *connector.Message) (*connector.Response, error) {
		var (
			v   any
			err error
		)
		r := &g.rates
		switch m.Type {
		case wire.TypeRegister:
			if !allow(r.register, &r.registerLimited, m.From) {
				return nil, rateLimited(m.Type)
			}
			v, err = g.register(ctx, i, m)
		case wire.TypeLookup:
			if !allow(r.lookup, &r.lookupLimited, m.From) {
				return nil, rateLimited(m.Type)
			}
			v, err = g.lookup(ctx, m)
		case wire.TypePunchAsk:
			if !allow(r.punch, &r.punchLimited, m.From) {
				return nil, rateLimited(m.Type)
			}
			v, err = g.punch(ctx, m)
		case wire.TypeRelayAsk:
			if !allow(r.relay, &r.relayLimited, m.From) {
				return nil, rateLimited(m.Type)
			}
			v, err = g.relayAsk(ctx, m)
		default:
			return nil, &connector.RemoteError{Code: connector.CodeNotFound, Text: "gateway: no such operation " + m.Type}
		}
		if err != nil {
			return nil, err
		}
		payload, err := wire.Encode(v)
		return &connector.Response{Payload: payload}, err
	})
}

func rateLimited(typ string) error {
	return &connector.RemoteError{Code: wire.CodeRateLimited, Text: "gateway: too many " + typ + " requests"}
}

// register stores the requester's record. In a fleet a node new here is
// admitted only while fewer than Limits.MaxGatewaysPerKey other gateways
// hold it, and a refreshed one is checked again as recheck says.
func (g *Gateway) register(ctx context.Context, i int, m *connector.Message) (*wire.Registered, error) {
	rec, err := g.record(i, m)
	if err != nil {
		g.reg.invalid.Add(1)
		return nil, err
	}
	old, ok := g.reg.get(m.From, time.Now())
	if !ok || old.Observed != m.Remote || old.via != i {
		// A bridge back after its connection ended (a new TCP relay link, a
		// restart) registers anew: its relay sessions follow it as they do
		// a bridge that moved.
		if ok {
			g.log.Info("bridge moved", "node", m.From.Short(), "from", old.Observed, "to", m.Remote)
		}
		g.relay.rebind(m.From, m.Remote, i)
	}
	switch {
	case g.fleet != nil && ok:
		if rec.rank, err = g.recheck(ctx, old); err != nil {
			g.reg.dropIf(old)
			return nil, err
		}
	case g.fleet != nil:
		rec.rank = holding{since: time.Now()} // out of the fleet's sight until enter
	}
	if err := g.reg.put(rec); err != nil {
		return nil, &connector.RemoteError{Code: connector.CodeUnavailable, Text: "gateway: " + err.Error()}
	}
	if g.fleet != nil && !ok {
		rec.rank = g.enter(ctx, rec)
		if err := g.admitNew(ctx, rec); err != nil {
			g.reg.dropIf(rec)
			return nil, err
		}
	}
	resp := &wire.Registered{Observed: m.Remote.String()}
	for j, a := range g.addrs {
		if j != i {
			resp.Others = append(resp.Others, a.String())
		}
	}
	return resp, nil
}

// ipKey is what a bridge at addr counts against: its real IP (a TCP relay
// client's, not its loopback address), by ratelimit.IPKey.
func (g *Gateway) ipKey(addr netip.AddrPort) netip.Addr {
	if ip, ok := g.tcp.sourceIP(addr); ok {
		return ratelimit.IPKey(ip)
	}
	return ratelimit.IPKey(addr.Addr())
}

// record checks a registration and makes the record to store: its size
// before it is decoded, then every field, keeping only canonical copies so
// a record holds no more than a few hundred bytes whatever was sent.
func (g *Gateway) record(i int, m *connector.Message) (record, error) {
	l := g.cfg.Limits
	if len(m.Payload) > l.MaxRecordBytes {
		return record{}, &connector.RemoteError{Code: connector.CodeTooLarge, Text: fmt.Sprintf("gateway: registration of %d bytes, at most %d", len(m.Payload), l.MaxRecordBytes)}
	}
	var req wire.Registration
	if err := wire.Decode(m.Payload, &req); err != nil {
		return record{}, wire.BadRequest("%v", err)
	}
	if len(req.Local) > l.MaxLocalAddrs {
		return record{}, wire.BadRequest("%d local addresses, at most %d", len(req.Local), l.MaxLocalAddrs)
	}
	local := make([]string, 0, len(req.Local))
	for _, a := range req.Local {
		ap, err := checkLocalAddr(a)
		if err != nil {
			return record{}, wire.BadRequest("%v", err)
		}
		local = append(local, ap.String())
	}
	mapping, ok1 := canonical(req.Mapping, wire.MappingIndependent, wire.MappingDependent)
	filtering, ok2 := canonical(req.Filtering, wire.FilteringIndependent, wire.FilteringDependent)
	if !ok1 || !ok2 {
		return record{}, wire.BadRequest("unknown NAT behaviour")
	}
	if g.onTCP(m.Remote) { // tcprelay: UDP cannot reach a node on the TCP relay
		mapping, filtering = wire.MappingDependent, wire.FilteringDependent
	}
	reflexive, err := g.tok.reflexive(req.Reflexive, m.Remote, time.Now()) // ipv6
	if err != nil {
		return record{}, err
	}
	return record{
		Record: wire.Record{ID: m.From, Observed: m.Remote, Local: local, Mapped: wire.ParseMapped(req.Mapped), Mapping: mapping, Filtering: filtering, Reflexive: reflexive},
		via:    i, ip: g.ipKey(m.Remote), expires: time.Now().Add(g.cfg.RegistrationTTL),
	}, nil
}

// checkLocalAddr parses a claimed local address: a unicast IP and a port.
func checkLocalAddr(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return ap, fmt.Errorf("gateway: local address: %w", err)
	}
	ip := ap.Addr().Unmap()
	if ap.Port() == 0 || ip.IsUnspecified() || ip.IsMulticast() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return ap, fmt.Errorf("gateway: local address %s is not a unicast address and port", s)
	}
	return netip.AddrPortFrom(ip, ap.Port()), nil
}

// canonical returns the constant among Unknown, "" and known that s
// equals, so a record keeps no string of the sender's.
func canonical(s string, known ...string) (string, bool) {
	for _, k := range append(known, wire.Unknown, "") {
		if s == k {
			return k, true
		}
	}
	return "", false
}

// peer returns the live record of the node a request names: its record
// here, or else its home's answer through the fleet.
func (g *Gateway) peer(ctx context.Context, m *connector.Message) (record, error) {
	var req wire.NodeRequest
	if len(m.Payload) > maxNodeRequest {
		return record{}, wire.BadRequest("request of %d bytes, at most %d", len(m.Payload), maxNodeRequest)
	}
	if err := wire.Decode(m.Payload, &req); err != nil {
		return record{}, wire.BadRequest("%v", err)
	}
	id, err := identity.ParseNodeID(req.Node)
	if err != nil {
		return record{}, wire.BadRequest("%v", err)
	}
	if rec, ok := g.reg.get(id, time.Now()); ok {
		return rec, nil
	}
	return g.remotePeer(ctx, m.From, id)
}

// lookup answers the record of the node the requester names. In a fleet
// it serves only keys registered here, so that a key's lookups are
// charged at no more than Limits.MaxGatewaysPerKey gateways.
func (g *Gateway) lookup(ctx context.Context, m *connector.Message) (*wire.PeerInfo, error) {
	if g.fleet != nil {
		if _, err := g.self(m); err != nil {
			g.fs.unregistered.Add(1)
			return nil, &connector.RemoteError{Code: wire.CodeNotHeld, Text: "gateway: register here first: a gateway of a fleet serves lookups only to keys registered with it"}
		}
	}
	rec, err := g.peer(ctx, m)
	if err != nil {
		return nil, err
	}
	pi := info(rec)
	if rec.home != nil {
		pi.Home, pi.HomeAddr = string(rec.home.id), rec.home.addr.String()
	}
	return pi, nil
}

// self returns the requester's own live record.
func (g *Gateway) self(m *connector.Message) (record, error) {
	rec, ok := g.reg.get(m.From, time.Now())
	if !ok {
		return record{}, wire.BadRequest("register first")
	}
	return rec, nil
}

// pair returns the records of the requester a of m and of the node b it
// names; both must be registered.
func (g *Gateway) pair(ctx context.Context, m *connector.Message) (a, b record, err error) {
	if b, err = g.peer(ctx, m); err != nil {
		return a, b, err
	}
	a, err = g.self(m)
	return a, b, err
}

// punch times a hole punch between the requester a and the node b it names:
// each side is told to start so that both start at about the same moment,
// from the round-trip times the gateway measured to each.
func (g *Gateway) punch(ctx context.Context, m *connector.Message) (*wire.PunchPlan, error) {
	a, b, err := g.pair(ctx, m)
	if err != nil {
		return nil, err
	}
	if g.onTCP(a.Observed) || g.onTCP(b.Observed) || (b.home != nil && b.home.tcp) { // tcprelay: no punch over TCP
		return nil, &connector.RemoteError{Code: connector.CodeUnavailable, Text: "gateway: no hole punch with a node on the TCP relay"}
	}
	if !g.rates.allowToward(a.ID, b.ID) {
		return nil, rateLimited(m.Type + " toward " + b.ID.Short())
	}
	if b.home != nil {
		return g.punchRemote(ctx, a, b)
	}
	rttA, _ := g.conns[a.via].RTT(a.ID)
	rttB, _ := g.conns[b.via].RTT(b.ID)
	start := max(rttA, rttB)/2 + 10*time.Millisecond
	dial := wire.ADials(a.Record, b.Record)
	toB := wire.PunchPlan{Node: string(a.ID), Observed: a.Observed.String(), Addrs: a.Candidates(), Dial: !dial, DelayMs: (start - rttB/2).Milliseconds(), Reflexive: wire.ReflexiveStrings(a.Reflexive)}
	if err := g.notify(ctx, b, wire.TypePunchNotify, &toB); err != nil {
		return nil, err
	}
	return &wire.PunchPlan{Node: string(b.ID), Observed: b.Observed.String(), Addrs: b.Candidates(), Dial: dial, DelayMs: (start - rttA/2).Milliseconds(), Reflexive: wire.ReflexiveStrings(b.Reflexive)}, nil
}

// notify sends a control message to a registered bridge over its own
// connection to the gateway and waits for its acknowledgement.
func (g *Gateway) notify(ctx context.Context, to record, typ string, v any) error {
	payload, err := wire.Encode(v)
	if err != nil {
		return err
	}
	_, err = g.conns[to.via].Request(ctx, connector.Outbound{Target: connector.Target{NodeID: to.ID}, Type: typ, Payload: payload})
	if err != nil {
		return &connector.RemoteError{Code: connector.CodeUnavailable, Text: fmt.Sprintf("gateway: telling %s: %v", to.ID.Short(), err)}
	}
	return nil
}

// relayAsk opens a relay session between the requester and the node it
// names. The other side learns the session before the requester does, so
// it is ready for the requester's first packet.
func (g *Gateway) relayAsk(ctx context.Context, m *connector.Message) (*wire.RelayGrant, error) {
	a, b, err := g.pair(ctx, m)
	if err != nil {
		return nil, err
	}
	if a.ID == b.ID {
		return nil, wire.BadRequest("a relay to oneself")
	}
	if !g.rates.allowToward(a.ID, b.ID) {
		return nil, rateLimited(m.Type + " toward " + b.ID.Short())
	}
	s, err := newSessionID()
	if err != nil {
		return nil, err
	}
	if b.home != nil {
		if err := g.relayRemote(ctx, s, a, b); err != nil {
			return nil, err
		}
		return &wire.RelayGrant{Node: string(b.ID), Session: s[:]}, nil
	}
	if err := g.relay.open(s, a, b, time.Now()); err != nil {
		return nil, &connector.RemoteError{Code: connector.CodeUnavailable, Text: "gateway: " + err.Error()}
	}
	if err := g.notify(ctx, b, wire.TypeRelayNotify, &wire.RelayGrant{Node: string(a.ID), Session: s[:]}); err != nil {
		g.relay.close(s)
		g.relay.refused.Add(1)
		return nil, err
	}
	g.log.Info("relay session opened", "a", a.ID.Short(), "b", b.ID.Short())
	return &wire.RelayGrant{Node: string(b.ID), Session: s[:]}, nil
}
