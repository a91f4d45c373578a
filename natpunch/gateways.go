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
// so a dead gateway costs one dial budget, once.
type gatewayHealth struct {
	down atomic.Bool
}

func (gw gatewayRef) up() bool { return gw.health == nil || !gw.health.down.Load() }

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

// liveGateways returns the gateways that answered last time, in the order
// configured, or every gateway if none did.
func (cl *Client) liveGateways() []gatewayRef {
	var live []gatewayRef
	for _, gw := range cl.gateways {
		if gw.up() {
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
		info, err := cl.lookup(ctx, gw, id)
		return gw, info, err
	}
	if len(cl.gateways) == 0 {
		return gatewayRef{}, wire.Record{}, fmt.Errorf("%w: %w", connector.ErrUnknownPeer, errNoGateway)
	}
	var errs []error
	for _, gw := range cl.liveGateways() {
		info, err := cl.lookup(ctx, gw, id)
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

// registerAll registers with every gateway at once and reports whether one
// took it; each gateway is marked up or down by its answer. probed is the
// index of the gateway the report's public address was probed on, or -1.
func (cl *Client) registerAll(report *Report, probed int) bool {
	reg := wire.Registration{Local: cl.localAddrs(), Mapped: cl.mappedAddr(), Mapping: report.Mapping, Filtering: report.Filtering}
	var ok atomic.Bool
	var wg sync.WaitGroup
	for i, gw := range cl.gateways {
		want := ""
		if i == probed {
			want = report.Public
		}
		wg.Go(func() {
			if err := cl.registerAt(gw, reg, want); err != nil {
				cl.log.Warn("gateway registration failed", "gateway", gw.target.String(), "err", err)
				cl.markDown(gw, err)
				return
			}
			cl.markUp(gw)
			ok.Store(true)
		})
	}
	wg.Wait()
	if ok.Load() && reg.Mapped != "" { // portmap
		cl.pm.registeredOnce()
	}
	return ok.Load()
}
