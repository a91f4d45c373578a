package natpunch

import (
	"context"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// Handler returns a handler that serves NAT traversal control messages from
// the configured gateways and passes everything else to next.
func (cl *Client) Handler(next connector.Handler) connector.Handler {
	return connector.HandlerFunc(func(ctx context.Context, m *connector.Message) (*connector.Response, error) {
		if !wire.IsControl(m.Type) {
			return next.ServePeer(ctx, m)
		}
		gw, ok := cl.gatewayByID(m.From)
		if !ok {
			return nil, &connector.RemoteError{Code: 403, Text: "natpunch: control messages are accepted only from gateways"}
		}
		return nil, cl.serveControl(gw, m)
	})
}

func (cl *Client) gatewayByID(id identity.NodeID) (gatewayRef, bool) {
	for _, gw := range cl.gateways {
		if gw.target.NodeID == id {
			return gw, true
		}
	}
	return gatewayRef{}, false
}

// punchFor carries out a hole punch a peer asked the gateway for, if the
// peer is within its punch rate and no punch for it is running, and fewer
// than MaxPunches are. The request is answered at once; the punch runs on
// its own clock, on a goroutine Close waits for.
func (cl *Client) punchFor(gw gatewayRef, peer identity.NodeID, plan wire.PunchPlan) error {
	if err := cl.accept(peer); err != nil {
		return err
	}
	release, err := cl.punches.admit(peer, time.Now())
	if err != nil {
		return &connector.RemoteError{Code: wire.CodeRateLimited, Text: err.Error()}
	}
	// The low-TTL packets go out before this request is answered: the
	// gateway answers the asker only after that, so this side's mapping
	// exists before the asker's first packet (see followPlan).
	targets := cl.punchTargets(plan, cl.cfg.LocalSubnets())
	heard, stopHeard := cl.heard.listen(targets)
	opened := cl.openOwnNAT(targets)
	started := cl.goOwned(func() {
		defer release()
		defer stopHeard()
		maxWait := cl.notifiedWait(gw)
		ctx, cancel := context.WithTimeout(cl.ctx, maxPunchDelay+maxWait+cl.cfg.PunchTimeout+5*time.Second)
		defer cancel()
		_, err := cl.followNotified(ctx, peer, plan, targets, opened, heard, maxWait)
		cl.trace(peer, "punch-notified", err)
	})
	if !started {
		stopHeard()
		release()
		return &connector.RemoteError{Code: connector.CodeUnavailable, Text: "natpunch: client is not running"}
	}
	return nil
}

// agreeRelay takes a relay session a peer asked the gateway for, if the
// peer is within its rate and the session bounds. The gateway closes a
// session this bridge refuses, and this bridge drops relay packets of
// sessions it does not have.
func (cl *Client) agreeRelay(gw gatewayRef, peer identity.NodeID, s wire.SessionID) error {
	if err := cl.accept(peer); err != nil {
		return err
	}
	now := time.Now()
	if !cl.grants.Allow(peer, now) {
		cl.relay.refused.Add(1)
		return &connector.RemoteError{Code: wire.CodeRateLimited, Text: "natpunch: too many relay sessions asked for by " + peer.Short()}
	}
	if err := cl.relay.addSession(s, gw.at(), peer, now, true); err != nil {
		return &connector.RemoteError{Code: wire.CodeRateLimited, Text: err.Error()}
	}
	return nil
}

// accept refuses a peer ClientConfig.Accept does not accept.
func (cl *Client) accept(peer identity.NodeID) error {
	if cl.cfg.Accept == nil || cl.cfg.Accept(peer) {
		return nil
	}
	cl.sent.notAccepted.Add(1)
	return &connector.RemoteError{Code: 403, Text: "natpunch: " + peer.Short() + " is not accepted here"}
}

// serveControl carries out what a gateway asks of this bridge.
func (cl *Client) serveControl(gw gatewayRef, m *connector.Message) error {
	switch m.Type {
	case wire.TypePunchNotify:
		var plan wire.PunchPlan
		if err := wire.Decode(m.Payload, &plan); err != nil {
			return wire.BadRequest("%v", err)
		}
		peer, err := identity.ParseNodeID(plan.Node)
		if err != nil {
			return wire.BadRequest("%v", err)
		}
		return cl.punchFor(gw, peer, plan)
	case wire.TypeRelayNotify:
		var grant wire.RelayGrant
		if err := wire.Decode(m.Payload, &grant); err != nil || len(grant.Session) != wire.SessionLen {
			return wire.BadRequest("bad relay grant")
		}
		peer, err := identity.ParseNodeID(grant.Node)
		if err != nil {
			return wire.BadRequest("%v", err)
		}
		return cl.agreeRelay(gw, peer, wire.SessionID(grant.Session))
	}
	return &connector.RemoteError{Code: connector.CodeNotFound, Text: "natpunch: no such control message " + m.Type}
}
