package gateway

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// maxFleetAsk bounds another gateway's ask, checked before it is decoded:
// a node ID and, for a punch, one record.
const maxFleetAsk = 4096

// serveFleet answers another gateway's ask about id, registered here, for
// a bridge registered there. The ask is charged to that bridge's own
// rates here, and punches and relays toward id to id's budgets here, as if
// the bridge had asked here itself: a key's requests toward a node meet
// the node's home's limits, whichever gateway they enter by.
func (g *Gateway) serveFleet(ctx context.Context, id identity.NodeID, op string, payload []byte) ([]byte, error) {
	g.fs.served.Add(1)
	ask, from, err := decodeAsk(payload)
	if err != nil {
		return nil, err
	}
	b, ok := g.reg.get(id, time.Now())
	if !ok || g.ctx.Err() != nil { // a closed gateway holds nothing
		g.fleet.Withdraw(id)
		return nil, &connector.RemoteError{Code: connector.CodeNotFound, Text: "gateway: node " + id.Short() + " is not registered"}
	}
	var v *wire.FleetAnswer
	r := &g.rates
	switch {
	case op == wire.FleetHolders: // the asker's registration was charged there
		v = g.holderAnswer(b)
	case op == wire.FleetLookup && allow(r.lookup, &r.lookupLimited, from):
		v = g.answer(b)
	case op == wire.FleetPunch && allow(r.punch, &r.punchLimited, from):
		v, err = g.servePunch(ctx, from, ask, b)
	case op == wire.FleetRelay && allow(r.relay, &r.relayLimited, from):
		v, err = g.serveRelay(ctx, from, ask, b)
	case op == wire.FleetLookup || op == wire.FleetPunch || op == wire.FleetRelay:
		return nil, rateLimited("fleet " + op)
	default:
		return nil, &connector.RemoteError{Code: connector.CodeNotFound, Text: "gateway: no such fleet operation " + op}
	}
	if err != nil {
		return nil, err
	}
	return wire.Encode(v)
}

func decodeAsk(payload []byte) (wire.FleetAsk, identity.NodeID, error) {
	var ask wire.FleetAsk
	if len(payload) > maxFleetAsk {
		return ask, "", wire.BadRequest("fleet ask of %d bytes, at most %d", len(payload), maxFleetAsk)
	}
	if err := wire.Decode(payload, &ask); err != nil {
		return ask, "", wire.BadRequest("%v", err)
	}
	from, err := identity.ParseNodeID(ask.From)
	if err != nil {
		return ask, "", wire.BadRequest("%v", err)
	}
	return ask, from, nil
}

// answer is what this gateway tells the fleet of its node rec.
func (g *Gateway) answer(rec record) *wire.FleetAnswer {
	return &wire.FleetAnswer{
		Peer: *info(rec), TCP: g.onTCP(rec.Observed),
		Home: string(g.id.NodeID()), HomeAddr: g.advertised(rec.via).String(),
	}
}

// info is rec as a lookup answers it, here or through the fleet: its
// checked addresses of the other family included, which older gateways
// ignore.
func info(rec record) *wire.PeerInfo {
	return &wire.PeerInfo{
		Node: string(rec.ID), Observed: rec.Observed.String(), Local: rec.Local, Mapped: rec.MappedString(),
		Mapping: rec.Mapping, Filtering: rec.Filtering, Reflexive: wire.ReflexiveStrings(rec.Reflexive),
	}
}

// servePunch tells b, registered here, to punch toward the asker a, whose
// gateway times the asker's side: b starts StartMs after the ask came,
// and the answer says when that was (b's round-trip time; the asker's
// gateway measures the rest) and which side dials.
func (g *Gateway) servePunch(ctx context.Context, from identity.NodeID, ask wire.FleetAsk, b record) (*wire.FleetAnswer, error) {
	if ask.Peer == nil {
		return nil, wire.BadRequest("a fleet punch without the asker's record")
	}
	a, err := g.askerRecord(from, *ask.Peer)
	if err != nil {
		return nil, err
	}
	if g.onTCP(b.Observed) {
		return nil, &connector.RemoteError{Code: connector.CodeUnavailable, Text: "gateway: no hole punch with a node on the TCP relay"}
	}
	if !g.rates.allowToward(from, b.ID) {
		return nil, rateLimited("fleet punch toward " + b.ID.Short())
	}
	rttB, _ := g.conns[b.via].RTT(b.ID)
	start := time.Duration(min(max(ask.StartMs, 0), 2000)) * time.Millisecond
	dial := wire.ADials(a.Record, b.Record)
	toB := wire.PunchPlan{Node: string(from), Observed: a.Observed.String(), Addrs: a.Candidates(), Dial: !dial, DelayMs: max(start-rttB/2, 0).Milliseconds(), Reflexive: wire.ReflexiveStrings(a.Reflexive)}
	if err := g.notify(ctx, b, wire.TypePunchNotify, &toB); err != nil {
		return nil, err
	}
	ans := g.answer(b)
	ans.RTTMs, ans.AskerDials = rttB.Milliseconds(), dial
	return ans, nil
}

// askerRecord checks what another gateway says of the bridge that asked
// there, as a registration is checked. Its reflexive addresses were
// checked there, as its observed one was: they are kept, at most
// wire.MaxReflexive of them.
func (g *Gateway) askerRecord(from identity.NodeID, p wire.PeerInfo) (record, error) {
	rec, err := p.Record(from)
	if err != nil || len(p.Local) > g.cfg.Limits.MaxLocalAddrs {
		return record{}, wire.BadRequest("fleet asker's record: address %q, %d local addresses", p.Observed, len(p.Local))
	}
	for _, l := range p.Local {
		if _, err := checkLocalAddr(l); err != nil {
			return record{}, wire.BadRequest("%v", err)
		}
	}
	mapping, ok1 := canonical(p.Mapping, wire.MappingIndependent, wire.MappingDependent)
	filtering, ok2 := canonical(p.Filtering, wire.FilteringIndependent, wire.FilteringDependent)
	if !ok1 || !ok2 {
		return record{}, wire.BadRequest("unknown NAT behaviour")
	}
	rec.Mapping, rec.Filtering = mapping, filtering
	return record{Record: rec}, nil
}

// serveRelay opens the home half of a relay session between the asker,
// whose gateway forwards its packets from ask.RelayFrom, and b: packets
// go between that gateway and b, and b learns the session as from a
// relay ask made here.
func (g *Gateway) serveRelay(ctx context.Context, from identity.NodeID, ask wire.FleetAsk, b record) (*wire.FleetAnswer, error) {
	relayFrom, err := netip.ParseAddrPort(ask.RelayFrom)
	if err != nil || len(ask.Session) != wire.SessionLen {
		return nil, wire.BadRequest("fleet relay from %q with a session of %d bytes", ask.RelayFrom, len(ask.Session))
	}
	if from == b.ID {
		return nil, wire.BadRequest("a relay to oneself")
	}
	if !g.rates.allowToward(from, b.ID) {
		return nil, rateLimited("fleet relay toward " + b.ID.Short())
	}
	s := wire.SessionID(ask.Session)
	a := record{Record: wire.Record{ID: from, Observed: netip.AddrPortFrom(relayFrom.Addr().Unmap(), relayFrom.Port())}, via: b.via}
	if err := g.relay.open(s, a, b, time.Now()); err != nil {
		return nil, &connector.RemoteError{Code: connector.CodeUnavailable, Text: "gateway: " + err.Error()}
	}
	if err := g.notify(ctx, b, wire.TypeRelayNotify, &wire.RelayGrant{Node: string(from), Session: s[:]}); err != nil {
		g.relay.close(s)
		g.relay.refused.Add(1)
		return nil, err
	}
	g.log.Info("relay session opened for the fleet", "a", from.Short(), "b", b.ID.Short(), "via", relayFrom)
	return g.answer(b), nil
}

// fleetErr wraps an error of the fleet for the bridge that asked.
func fleetErr(err error) error {
	return &connector.RemoteError{Code: connector.CodeUnavailable, Text: fmt.Sprintf("gateway: fleet: %v", err)}
}
