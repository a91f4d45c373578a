package gateway

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// Fleet is the state a gateway shares with the other gateways of its
// fleet: which nodes are registered where, and a way to ask a node's home
// gateway (one it is registered at) to act for a bridge registered here.
// natpunch/fleet implements it on NATS. A gateway without one serves only
// its own registrations.
type Fleet interface {
	// Serve answers the fleet's asks about the nodes this gateway
	// announced with h until the fleet is closed.
	Serve(h FleetHandler) error
	// Announce says this gateway is a home of id; Withdraw that it no
	// longer is. Both are idempotent and do not block on the network.
	Announce(id identity.NodeID)
	Withdraw(id identity.NodeID)
	// Ask sends op about id, with payload, to a home of id and returns its
	// answer: ErrNotInFleet if no gateway is, a *connector.RemoteError if
	// the home refused. A not-found refusal, which a gateway that no
	// longer holds id gives, gives way to another home's answer that
	// comes shortly after it.
	Ask(ctx context.Context, id identity.NodeID, op string, payload []byte) ([]byte, error)
	// AskAll sends op about id to every home of id and hands each answer
	// (this gateway's own among them, unless the fleet leaves it out) to
	// each until each returns false, no more answers come, or ctx ends; it
	// returns nil at once if no gateway is a home of id.
	AskAll(ctx context.Context, id identity.NodeID, op string, payload []byte, each func([]byte) bool) error
	// Err is nil while the gateway is connected to the fleet.
	Err() error
	// Sync returns once the fleet has seen every Announce made before.
	Sync(ctx context.Context) error
	// Epoch changes each time the gateway is connected to the fleet
	// again after losing it.
	Epoch() uint64
}

// FleetHandler answers another gateway's ask about node id, registered
// here.
type FleetHandler func(ctx context.Context, id identity.NodeID, op string, payload []byte) ([]byte, error)

// ErrNotInFleet reports a node that no gateway of the fleet knows.
var ErrNotInFleet = errors.New("gateway: node registered at no gateway of the fleet")

// FleetTimeout bounds one ask of another gateway, a punch's notification
// of its node included.
const FleetTimeout = 3 * time.Second

// fleetHome is where a node registered at another gateway is: that
// gateway, the address of it the node is connected to, and whether it is
// on that gateway's TCP relay.
type fleetHome struct {
	id   identity.NodeID
	addr netip.AddrPort
	tcp  bool
}

// fleetStats counts the gateway's asks of the fleet and the fleet's of it.
type fleetStats struct {
	found, missed, failed, served atomic.Uint64
	// heldElsewhere counts registrations refused, or ended at a refresh,
	// because Limits.MaxGatewaysPerKey other gateways rank before this
	// one; unregistered lookups asked by keys not registered here.
	heldElsewhere, unregistered atomic.Uint64
}

// JoinFleet makes the gateway one of f's: its registrations are announced
// to f, and lookups, punches and relay requests for nodes it does not
// know go to their home gateways through f. Call it before Start.
func (g *Gateway) JoinFleet(f Fleet) {
	g.fleet = f
	g.reg.announce, g.reg.withdraw = f.Announce, f.Withdraw
}

// FleetErr is nil while the gateway is connected to its fleet, or has
// none.
func (g *Gateway) FleetErr() error {
	if g.fleet == nil {
		return nil
	}
	return g.fleet.Err()
}

// advertised is the address of listen address i that other gateways and
// bridges reach it at.
func (g *Gateway) advertised(i int) netip.AddrPort {
	if i < len(g.cfg.Advertise) {
		if ap, err := netip.ParseAddrPort(g.cfg.Advertise[i]); err == nil {
			return ap
		}
	}
	return g.addrs[i]
}
