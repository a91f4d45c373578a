package natpunch

import (
	"context"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// Handler returns a handler that serves NAT traversal control messages from
// the configured gateways and passes everything else to next.
func (cl *Client) Handler(next connector.Handler) connector.Handler {
	return connector.HandlerFunc(func(ctx context.Context, m *connector.Message) (*connector.Response, error) {
		if !isControl(m.Type) {
			return next.ServePeer(ctx, m)
		}
		gw, ok := cl.gatewayByID(m.From)
		if !ok {
			return nil, &connector.RemoteError{Code: 403, Text: "natpunch: control messages are accepted only from gateways"}
		}
		return nil, cl.serveControl(gw, m)
	})
}

func (cl *Client) gatewayByID(id identity.NodeID) (gateway, bool) {
	for _, gw := range cl.gateways {
		if gw.target.NodeID == id {
			return gw, true
		}
	}
	return gateway{}, false
}

// serveControl carries out what a gateway asks of this bridge.
func (cl *Client) serveControl(gw gateway, m *connector.Message) error {
	switch m.Type {
	case typePunchNotify:
		var plan punchPlan
		if err := decode(m.Payload, &plan); err != nil {
			return badRequest("%v", err)
		}
		peer, err := identity.ParseNodeID(plan.Node)
		if err != nil {
			return badRequest("%v", err)
		}
		// Answer at once; the punch runs on its own clock.
		started := cl.goOwned(func() {
			ctx, cancel := context.WithTimeout(cl.ctx, cl.cfg.PunchTimeout+5*time.Second)
			defer cancel()
			cl.trace(peer, "punch-notified", cl.followPlan(ctx, peer, plan))
		})
		if !started {
			return &connector.RemoteError{Code: connector.CodeUnavailable, Text: "natpunch: client is not running"}
		}
		return nil
	case typeRelayNotify:
		var grant relayGrant
		if err := decode(m.Payload, &grant); err != nil || len(grant.Session) != sessionLen {
			return badRequest("bad relay grant")
		}
		cl.relay.addSession(sessionID(grant.Session), gw.addr)
		return nil
	}
	return &connector.RemoteError{Code: connector.CodeNotFound, Text: "natpunch: no such control message " + m.Type}
}
