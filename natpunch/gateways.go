package natpunch

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// gatewayRef is a configured gateway with its resolved address and what
// this bridge knows of its health.
type gatewayRef struct {
	target connector.Target
	addr   netip.AddrPort
	health *gatewayHealth
	reach  *gatewayReach // where it is reached now (see at); may be nil
}

// gatewayHealth is whether a gateway answered last time. A gateway that
// did not is down: routes skip it until a registration reaches it again,
// so a dead gateway costs one dial budget, once. A gateway that answered
// wire.CodeNotHeld is up but holds no registration of this bridge
// (its fleet holds it at enough other gateways): routes skip it too, as it
// would refuse their lookups, until a refresh registers there again.
type gatewayHealth struct {
	down, held atomic.Bool
}

func (gw gatewayRef) up() bool { return gw.health == nil || !gw.health.down.Load() }

// usable reports a gateway that is up and holds this bridge's
// registration (or has not said it does not).
func (gw gatewayRef) usable() bool { return gw.up() && (gw.health == nil || !gw.health.held.Load()) }

// markDown records that gw did not answer; markUp that it did. Each logs
// the change.
func (cl *Client) markDown(gw gatewayRef, err error) {
	if gw.health != nil && !gw.health.down.Swap(true) {
		cl.log.Warn("gateway is down; using the others until it answers again", "gateway", gw.target.String(), "err", err)
		cl.trace(gw.target.NodeID, "gateway-down", err)
	}
}

func (cl *Client) markUp(gw gatewayRef) {
	if gw.health != nil && gw.health.down.Swap(false) {
		cl.log.Info("gateway is back", "gateway", gw.target.String())
		cl.trace(gw.target.NodeID, "gateway-up", nil)
	}
}

// liveGateways returns the gateways that answered last time and hold this
// bridge's registration, in the order configured, or every gateway if
// none does.
func (cl *Client) liveGateways() []gatewayRef {
	var live []gatewayRef
	for _, gw := range cl.gateways {
		if gw.usable() {
			live = append(live, gw)
		}
	}
	if len(live) == 0 {
		return cl.gateways
	}
	return live
}

// gatewayDown reports an error that says the gateway itself did not
// answer, as opposed to an answer (a refusal, a node it does not know).
func gatewayDown(err error) bool {
	var re *connector.RemoteError
	if errors.As(err, &re) {
		return false
	}
	return errors.Is(err, connector.ErrUnreachable) || errors.Is(err, connector.ErrTimeout) ||
		errors.Is(err, connector.ErrDeliveryUnknown) || errors.Is(err, connector.ErrGoingAway)
}

// findPeer looks id up at the live gateways, in order, and returns the
// first that knows it with its record. A gateway that does not answer is
// marked down and the next one asked; one that does not know id is passed
// over. named, if set, is the one gateway to use (Peer-Relay).
func (cl *Client) findPeer(ctx context.Context, id identity.NodeID, named string) (gatewayRef, wire.Record, error) {
	if named != "" {
		gw, err := cl.gatewayFor(named)
		if err != nil {
			return gatewayRef{}, wire.Record{}, err
		}
		info, err := cl.lookupHeld(ctx, gw, id)
		return gw, info, err
	}
	if len(cl.gateways) == 0 {
		return gatewayRef{}, wire.Record{}, fmt.Errorf("%w: %w", connector.ErrUnknownPeer, errNoGateway)
	}
	var errs []error
	for _, gw := range cl.liveGateways() {
		info, err := cl.lookupHeld(ctx, gw, id)
		if err == nil {
			cl.markUp(gw)
			return gw, info, nil
		}
		errs = append(errs, err)
		if gatewayDown(err) {
			cl.markDown(gw, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return gatewayRef{}, wire.Record{}, errors.Join(errs...)
}

// lookupHeld looks id up at gw. A gateway of a fleet serves lookups only
// to bridges registered with it: one that answers wire.CodeNotHeld before
// this bridge's first round of registrations has been answered is asked
// again after it; one that answers it afterwards holds no registration of
// this bridge, and routes skip it until a refresh registers there.
func (cl *Client) lookupHeld(ctx context.Context, gw gatewayRef, id identity.NodeID) (wire.Record, error) {
	info, err := cl.lookup(ctx, gw, id)
	if !notHeld(err) {
		return info, err
	}
	select {
	case <-cl.firstRound:
		cl.markHeld(gw, err)
		return info, err
	default:
	}
	select {
	case <-cl.firstRound:
	case <-ctx.Done():
		return info, err
	}
	if !gw.usable() {
		return info, err
	}
	return cl.lookup(ctx, gw, id)
}

// registerAll registers with every gateway at once and reports whether one
// took it, and whether one answered at all (a refusal is an answer: UDP
// reaches it); each gateway is marked up or down by its answer. probed is
// the index of the gateway the report's public address was probed on, or
// -1.
func (cl *Client) registerAll(report *Report, probed int) (registered, answered bool) {
	reg := wire.Registration{Local: cl.localAddrs(), Mapped: cl.mappedAddr(), Mapping: report.Mapping, Filtering: report.Filtering}
	var ok, heard atomic.Bool
	var wg sync.WaitGroup
	for i, gw := range cl.gateways {
		want := ""
		if i == probed {
			want = report.Public
		}
		wg.Go(func() {
			err := cl.registerAt(gw, reg, want)
			switch {
			case notHeld(err):
				cl.markHeld(gw, err)
				heard.Store(true)
				return
			case err != nil:
				cl.log.Warn("gateway registration failed", "gateway", gw.target.String(), "err", err)
				cl.markDown(gw, err)
				return
			}
			cl.markUp(gw)
			cl.markHeld(gw, nil)
			ok.Store(true)
			heard.Store(true)
		})
	}
	wg.Wait()
	if ok.Load() && reg.Mapped != "" { // portmap
		cl.pm.registeredOnce()
	}
	return ok.Load(), heard.Load()
}

// notHeld reports a gateway's refusal of a registration its fleet holds
// at enough other gateways, or of a lookup by a bridge it does not hold.
func notHeld(err error) bool {
	var re *connector.RemoteError
	return errors.As(err, &re) && re.Code == wire.CodeNotHeld
}

// markHeld records whether gw refused this bridge's registration because
// its fleet holds it elsewhere (err set) or took it (nil). The gateway
// answered, so it is up. Only a change is logged, at info: a bridge
// configured with more gateways of one fleet than the fleet lets a key
// use hears the refusal at every refresh.
func (cl *Client) markHeld(gw gatewayRef, err error) {
	if gw.health == nil {
		return
	}
	if err != nil {
		cl.markUp(gw)
	}
	if gw.health.held.Swap(err != nil) == (err != nil) {
		return
	}
	if err != nil {
		cl.log.Info("gateway's fleet holds this bridge's registration at enough other gateways; not using it until it takes the registration", "gateway", gw.target.String(), "err", err)
		cl.trace(gw.target.NodeID, "gateway-held-elsewhere", err)
		return
	}
	cl.log.Info("gateway took the registration its fleet held elsewhere", "gateway", gw.target.String())
	cl.trace(gw.target.NodeID, "gateway-registered", nil)
}
