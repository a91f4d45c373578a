package gateway

import (
	"sync/atomic"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
)

// gatewayRates are the gateway's request rate limits: one token bucket per
// key and operation, one per target of punches and relays, and a total.
type gatewayRates struct {
	register, lookup, punch, relay, notify *ratelimit.KeyLimiter[identity.NodeID]
	// pairs meters each asker's punch and relay requests toward each
	// target, drawing on the target's notify bucket too: one key gets only
	// its share of what a target may be asked.
	pairs *ratelimit.KeyLimiter[pair]

	// limited counts the requests each table refused.
	registerLimited, lookupLimited, punchLimited, relayLimited, notifyLimited, pairLimited atomic.Uint64
}

func newGatewayRates(l Limits) gatewayRates {
	total := l.Requests.Limiter() // one bucket for every operation
	mk := func(each ratelimit.Rate) *ratelimit.KeyLimiter[identity.NodeID] {
		return ratelimit.NewKeyLimiter[identity.NodeID](each, total, l.MaxKeys)
	}
	return gatewayRates{
		register: mk(l.Registrations), lookup: mk(l.Lookups), punch: mk(l.Punches), relay: mk(l.Relays),
		notify: ratelimit.NewKeyLimiter[identity.NodeID](l.Notifies, nil, l.MaxKeys),
		pairs:  ratelimit.NewKeyLimiter[pair](l.PairNotifies, nil, l.MaxKeys),
	}
}

// allow takes a token for id from k, counting a refusal in limited.
func allow[K comparable](k *ratelimit.KeyLimiter[K], limited *atomic.Uint64, id K) bool {
	if k.Allow(id, time.Now()) {
		return true
	}
	limited.Add(1)
	return false
}

// pair is an asker and the node it asks about.
type pair struct{ from, to identity.NodeID }

// allowToward meters a punch or relay request from asker toward target:
// the pair's own bucket first, so an asker past its share is refused
// without spending the target's, then the target's.
func (r *gatewayRates) allowToward(asker, target identity.NodeID) bool {
	return allow(r.pairs, &r.pairLimited, pair{asker, target}) && allow(r.notify, &r.notifyLimited, target)
}

// Stats counts what a gateway holds, and every request and packet
// it refused or dropped, for metrics.
type Stats struct {
	// Registrations is the number of live records.
	Registrations int
	// RegistrationsRefused counts new nodes refused because the registry
	// was full; RegistrationsInvalid records refused as too large or
	// malformed; RegistrationsExpired records that expired.
	RegistrationsRefused, RegistrationsInvalid, RegistrationsExpired uint64
	// RegistrationsRefusedIP counts new nodes refused because their IP
	// address held its share (Limits.MaxRegistrationsPerIP);
	// RegistrationsGone records deleted when their bridge's connection
	// ended.
	RegistrationsRefusedIP, RegistrationsGone uint64
	// RegisterLimited, LookupLimited, PunchLimited and RelayLimited count
	// requests refused by their key's rate or the total rate;
	// NotifyLimited punch and relay requests refused by the rate toward
	// their target; PairLimited those refused by the asker's own rate
	// toward that target.
	RegisterLimited, LookupLimited, PunchLimited, RelayLimited, NotifyLimited, PairLimited uint64
	// RelaySessions is the number of open relay sessions;
	// RelaySessionsRefused counts sessions refused by the per-client or
	// total bound, or by the other side.
	RelaySessions        int
	RelaySessionsRefused uint64
	// RelayForwarded counts relayed packets; RelayDropped all dropped ones,
	// of which RelayDroppedUnknown had no session or a sender that is not
	// one of its ends, and RelayDroppedLimit went over a rate or byte
	// budget.
	RelayForwarded, RelayDropped, RelayDroppedUnknown, RelayDroppedLimit uint64
	// RelayBytes counts the bytes of the packets relayed.
	RelayBytes uint64
	// TCPClients is the number of bridges on the TCP relay; TCPAccepted
	// counts those accepted in all, TCPRefused TCP connections refused by
	// the TCP limits.
	TCPClients              int
	TCPAccepted, TCPRefused uint64
	// InFleet says the gateway is one of a fleet; FleetUp that it is
	// connected to it now. FleetFound, FleetMissed and FleetFailed count
	// its asks of the fleet by result: a home answered, no gateway knew
	// the node, or the fleet could not be asked (lost, or no answer in
	// time); FleetServed counts the fleet's asks of this gateway.
	InFleet, FleetUp                                  bool
	FleetFound, FleetMissed, FleetFailed, FleetServed uint64
	// RegistrationsHeldElsewhere counts registrations refused, or ended
	// at a refresh, because Limits.MaxGatewaysPerKey other gateways of the
	// fleet hold the node and rank before this one; LookupsUnregistered
	// lookups refused in a fleet because the asker is not registered here.
	RegistrationsHeldElsewhere, LookupsUnregistered uint64
}

// Stats returns the gateway's counters.
func (g *Gateway) Stats() Stats {
	sessions, forwarded, dropped := g.relay.stats()
	tcpClients, tcpAccepted, tcpRefused := g.tcp.stats()
	r := &g.rates
	return Stats{
		TCPClients: tcpClients, TCPAccepted: tcpAccepted, TCPRefused: tcpRefused,
		Registrations:          g.reg.size(),
		RegistrationsRefused:   g.reg.refused.Load(),
		RegistrationsInvalid:   g.reg.invalid.Load(),
		RegistrationsExpired:   g.reg.expired.Load(),
		RegistrationsRefusedIP: g.reg.refusedIP.Load(),
		RegistrationsGone:      g.reg.gone.Load(),
		RegisterLimited:        r.registerLimited.Load(),
		LookupLimited:          r.lookupLimited.Load(),
		PunchLimited:           r.punchLimited.Load(),
		RelayLimited:           r.relayLimited.Load(),
		NotifyLimited:          r.notifyLimited.Load(),
		PairLimited:            r.pairLimited.Load(),
		RelaySessions:          sessions,
		RelaySessionsRefused:   g.relay.refused.Load(),
		RelayForwarded:         forwarded,
		RelayDropped:           dropped,
		RelayDroppedUnknown:    g.relay.droppedUnknown.Load(),
		RelayDroppedLimit:      g.relay.droppedLimit.Load(),
		RelayBytes:             g.relay.bytes.Load(),
		InFleet:                g.fleet != nil,
		FleetUp:                g.fleet != nil && g.fleet.Err() == nil,
		FleetFound:             g.fs.found.Load(),
		FleetMissed:            g.fs.missed.Load(),
		FleetFailed:            g.fs.failed.Load(),
		FleetServed:            g.fs.served.Load(),

		RegistrationsHeldElsewhere: g.fs.heldElsewhere.Load(),
		LookupsUnregistered:        g.fs.unregistered.Load(),
	}
}
