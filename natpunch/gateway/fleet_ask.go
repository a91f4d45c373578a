package gateway

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// askFleet asks id's home gateway op for the bridge from. Without a
// fleet, or while this gateway has lost it, id is simply not registered
// here: the gateway keeps serving its own registrations.
func (g *Gateway) askFleet(ctx context.Context, id identity.NodeID, op string, ask *wire.FleetAsk) (*wire.FleetAnswer, error) {
	notHere := &connector.RemoteError{Code: connector.CodeNotFound, Text: "gateway: node " + id.Short() + " is not registered"}
	if g.fleet == nil {
		return nil, notHere
	}
	if err := g.fleet.Err(); err != nil {
		g.fs.failed.Add(1)
		return nil, notHere
	}
	payload, err := wire.Encode(ask)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, FleetTimeout)
	defer cancel()
	b, err := g.fleet.Ask(ctx, id, op, payload)
	var re *connector.RemoteError
	switch {
	case errors.Is(err, ErrNotInFleet):
		g.fs.missed.Add(1)
		return nil, notHere
	case errors.As(err, &re):
		return nil, re // the home's answer, passed on
	case err != nil:
		g.fs.failed.Add(1)
		return nil, fleetErr(err)
	}
	var ans wire.FleetAnswer
	if err := wire.Decode(b, &ans); err != nil {
		g.fs.failed.Add(1)
		return nil, fleetErr(err)
	}
	g.fs.found.Add(1)
	return &ans, nil
}

// remotePeer looks id up at its home gateway for the bridge from.
func (g *Gateway) remotePeer(ctx context.Context, from, id identity.NodeID) (record, error) {
	ans, err := g.askFleet(ctx, id, wire.FleetLookup, &wire.FleetAsk{From: string(from)})
	if err != nil {
		return record{}, err
	}
	return remoteRecord(id, ans)
}

// remoteRecord is a node registered at another gateway, as its home
// answered.
func remoteRecord(id identity.NodeID, ans *wire.FleetAnswer) (record, error) {
	home, err1 := identity.ParseNodeID(ans.Home)
	addr, err2 := netip.ParseAddrPort(ans.HomeAddr)
	rec, err3 := ans.Peer.Record(id)
	if err := errors.Join(err1, err2, err3); err != nil || ans.Peer.Node != string(id) {
		return record{}, fleetErr(errors.Join(err, errors.New("a malformed answer")))
	}
	return record{Record: rec, home: &fleetHome{id: home, addr: addr, tcp: ans.TCP}}, nil
}

// punchRemote times a hole punch between a, registered here, and b,
// registered at its home gateway, which tells b. This gateway times it: b
// is to start start after its home gets the ask, and when the answer
// comes back a's delay is set so that both start at about that moment.
func (g *Gateway) punchRemote(ctx context.Context, a, b record) (*wire.PunchPlan, error) {
	rttA, _ := g.conns[a.via].RTT(a.ID)
	start := rttA + 50*time.Millisecond
	t0 := time.Now()
	ans, err := g.askFleet(ctx, b.ID, wire.FleetPunch, &wire.FleetAsk{From: string(a.ID), Peer: info(a), StartMs: start.Milliseconds()})
	if err != nil {
		return nil, err
	}
	delay := remotePunchDelay(time.Since(t0), start, rttA, time.Duration(ans.RTTMs)*time.Millisecond)
	return &wire.PunchPlan{Node: string(b.ID), Observed: b.Observed.String(), Addrs: b.Candidates(), Dial: ans.AskerDials, DelayMs: delay.Milliseconds(), Reflexive: wire.ReflexiveStrings(b.Reflexive)}, nil
}

// remotePunchDelay is how long the asker waits, once it has the answer,
// so that it starts when the other side does. The ask took round in all,
// of which the home spent about rttB waiting for its node's
// acknowledgement; the home got it halfway through the rest, and its node
// started start later (or on arrival, if that was later). The answer
// reaches the asker rttA/2 after round.
func remotePunchDelay(round, start, rttA, rttB time.Duration) time.Duration {
	got := max(round-rttB, 0) / 2
	begins := got + max(start, rttB/2)
	return max(begins-round-rttA/2, 0)
}

// relayRemote opens a relay session between a, registered here, and b,
// registered at its home: this gateway forwards a's packets to the home
// and the home's to a, and the home does the same between this gateway
// and b (a DERP mesh's single hop). The packets stay opaque end-to-end
// QUIC.
func (g *Gateway) relayRemote(ctx context.Context, s wire.SessionID, a, b record) error {
	b.Observed, b.via = b.home.addr, a.via // b's packets come from, and go to, its home
	if err := g.relay.open(s, a, b, time.Now()); err != nil {
		return &connector.RemoteError{Code: connector.CodeUnavailable, Text: "gateway: " + err.Error()}
	}
	ask := &wire.FleetAsk{From: string(a.ID), Session: s[:], RelayFrom: g.advertised(a.via).String()}
	if _, err := g.askFleet(ctx, b.ID, wire.FleetRelay, ask); err != nil {
		g.relay.close(s)
		g.relay.refused.Add(1)
		return err
	}
	g.log.Info("relay session opened through the fleet", "a", a.ID.Short(), "b", b.ID.Short(), "home", b.home.id.Short())
	return nil
}
