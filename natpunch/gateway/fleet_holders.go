package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// holdersTimeout bounds the count of a node's other holders; a fleet that
// does not answer in time is not waited for (see admitNew).
const holdersTimeout = time.Second

// holding is where a record stands among the gateways of the fleet that
// hold its node: they rank by since, oldest first, then by gateway ID,
// and a gateway keeps a node only while fewer than
// Limits.MaxGatewaysPerKey others rank before it.
type holding struct {
	since time.Time // when this gateway's holding began, as the fleet ranks it
	epoch uint64    // the fleet's Epoch when since was set
	// inSight says since was set while the gateway was connected to the
	// fleet; a holding made out of its sight ranks anew once it is back.
	inSight bool
	// checked says the holding was checked again at the refresh after it
	// began, when whatever raced it is in sight.
	checked bool
}

// enter begins the holding of rec, a node new here, stored out of the
// fleet's sight (and so answering counts as if it began at each answer),
// once the fleet has seen the record's announcement, and returns it. So
// of two gateways admitting one node at once, the later-ranked sees the
// other: its holding began later, and it counts after that, so after the
// fleet saw the other's announcement (on one NATS server; in a cluster,
// or with clocks apart, recheck makes good what a count missed).
func (g *Gateway) enter(ctx context.Context, rec record) holding {
	if g.fleet.Err() != nil {
		return rec.rank
	}
	ep := g.fleet.Epoch()
	ctx, cancel := context.WithTimeout(ctx, holdersTimeout)
	defer cancel()
	if err := g.fleet.Sync(ctx); err != nil {
		return rec.rank
	}
	h := holding{since: time.Now(), epoch: ep, inSight: true}
	g.reg.setRank(rec, h)
	return h
}

// heldElsewhere refuses a registration of id held at enough other
// gateways.
func (g *Gateway) heldElsewhere(id identity.NodeID) error {
	g.fs.heldElsewhere.Add(1)
	g.log.Debug("registration held at enough other gateways of the fleet", "node", id.Short())
	return &connector.RemoteError{Code: wire.CodeNotHeld, Text: fmt.Sprintf("gateway: node %s is registered at %d other gateways of the fleet", id.Short(), g.cfg.Limits.MaxGatewaysPerKey)}
}

// admitNew checks the record rec of a node new here, as enter left it.
// It fails open: a gateway out of its fleet, or a fleet that does not
// answer in time, admits, and the refresh's check settles it.
func (g *Gateway) admitNew(ctx context.Context, rec record) error {
	if !rec.rank.inSight {
		return nil
	}
	if out, _ := g.outranked(ctx, rec.ID, rec.rank); out {
		return g.heldElsewhere(rec.ID)
	}
	return nil
}

// recheck checks old's holding when its bridge refreshes it, and returns
// the holding the refreshed record keeps, or the refusal if the node must
// go. A holding begun out of the fleet's sight (the gateway had lost its
// NATS) ranks anew from now, as if the node had just registered; one not
// yet checked since it began is checked once more, by when any gateway
// that raced it is in sight (interest crosses a NATS cluster in
// milliseconds, a refresh comes every 30 s).
func (g *Gateway) recheck(ctx context.Context, old record) (holding, error) {
	h := old.rank
	if g.fleet.Err() != nil {
		return h, nil
	}
	if ep := g.fleet.Epoch(); !h.inSight || h.epoch != ep {
		h = holding{since: time.Now(), epoch: ep, inSight: true}
		if out, _ := g.outranked(ctx, old.ID, h); out {
			return h, g.heldElsewhere(old.ID)
		}
		return h, nil
	}
	if h.checked {
		return h, nil
	}
	out, err := g.outranked(ctx, old.ID, h)
	if out {
		return h, g.heldElsewhere(old.ID)
	}
	h.checked = err == nil
	return h, nil
}

// outranked asks the other gateways holding id where they stand, and
// reports whether Limits.MaxGatewaysPerKey of them rank before h. An
// error says the count may be short.
func (g *Gateway) outranked(ctx context.Context, id identity.NodeID, h holding) (bool, error) {
	payload, err := wire.Encode(&wire.FleetAsk{From: string(id)})
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, holdersTimeout)
	defer cancel()
	self, since, most := string(g.id.NodeID()), h.since.UnixNano(), g.cfg.Limits.MaxGatewaysPerKey
	n := 0
	err = g.fleet.AskAll(ctx, id, wire.FleetHolders, payload, func(b []byte) bool {
		var ans wire.FleetAnswer
		if wire.Decode(b, &ans) != nil || ans.Home == self {
			return true
		}
		if ans.Since < since || (ans.Since == since && ans.Home < self) {
			n++
		}
		return n < most
	})
	if n >= most {
		return true, nil
	}
	if err != nil {
		g.fs.failed.Add(1)
	}
	return false, err
}

// holderAnswer is this gateway's answer to a count of rec's holders: a
// holding out of the fleet's sight until now ranks as if it began now,
// as it will when its bridge next refreshes it.
func (g *Gateway) holderAnswer(rec record) *wire.FleetAnswer {
	ans := g.answer(rec)
	since := rec.rank.since
	if !rec.rank.inSight || rec.rank.epoch != g.fleet.Epoch() {
		since = time.Now()
	}
	ans.Since = since.UnixNano()
	return ans
}
