package natpunch

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// handler serves control requests arriving on listen address i.
func (g *Gateway) handler(i int) connector.Handler {
	return connector.HandlerFunc(func(ctx context.Context, m *connector.Message) (*connector.Response, error) {
		var (
			v   any
			err error
		)
		switch m.Type {
		case typeRegister:
			v, err = g.register(i, m)
		case typeLookup:
			v, err = g.lookup(m)
		case typePunchAsk:
			v, err = g.punch(ctx, m)
		case typeRelayAsk:
			v, err = g.relayAsk(ctx, m)
		default:
			return nil, &connector.RemoteError{Code: connector.CodeNotFound, Text: "gateway: no such operation " + m.Type}
		}
		if err != nil {
			return nil, err
		}
		payload, err := encode(v)
		return &connector.Response{Payload: payload}, err
	})
}

func badRequest(format string, args ...any) error {
	return &connector.RemoteError{Code: connector.CodeBadRequest, Text: fmt.Sprintf("gateway: "+format, args...)}
}

func (g *Gateway) register(i int, m *connector.Message) (*registered, error) {
	var req registration
	if err := decode(m.Payload, &req); err != nil {
		return nil, badRequest("%v", err)
	}
	if len(req.Local) > 16 {
		return nil, badRequest("%d local addresses, at most 16", len(req.Local))
	}
	now := time.Now()
	if old, ok := g.reg.get(m.From, now); ok && (old.observed != m.Remote || old.via != i) {
		g.log.Info("bridge moved", "node", m.From.Short(), "from", old.observed, "to", m.Remote)
		g.relay.rebind(m.From, m.Remote, i)
	}
	g.reg.put(record{
		id: m.From, observed: m.Remote, local: req.Local, mapping: req.Mapping, filtering: req.Filtering,
		via: i, expires: now.Add(g.cfg.RegistrationTTL),
	})
	resp := &registered{Observed: m.Remote.String()}
	for j, a := range g.addrs {
		if j != i {
			resp.Others = append(resp.Others, a.String())
		}
	}
	return resp, nil
}

// peer returns the live record of the node a request names.
func (g *Gateway) peer(m *connector.Message) (record, error) {
	var req nodeRequest
	if err := decode(m.Payload, &req); err != nil {
		return record{}, badRequest("%v", err)
	}
	id, err := identity.ParseNodeID(req.Node)
	if err != nil {
		return record{}, badRequest("%v", err)
	}
	rec, ok := g.reg.get(id, time.Now())
	if !ok {
		return record{}, &connector.RemoteError{Code: connector.CodeNotFound, Text: "gateway: node " + id.Short() + " is not registered"}
	}
	return rec, nil
}

func (g *Gateway) lookup(m *connector.Message) (*peerInfo, error) {
	rec, err := g.peer(m)
	if err != nil {
		return nil, err
	}
	return &peerInfo{Node: string(rec.id), Observed: rec.observed.String(), Local: rec.local, Mapping: rec.mapping, Filtering: rec.filtering}, nil
}

// self returns the requester's own live record.
func (g *Gateway) self(m *connector.Message) (record, error) {
	rec, ok := g.reg.get(m.From, time.Now())
	if !ok {
		return record{}, badRequest("register first")
	}
	return rec, nil
}

// pair returns the records of the requester a of m and of the node b it
// names; both must be registered.
func (g *Gateway) pair(m *connector.Message) (a, b record, err error) {
	if b, err = g.peer(m); err != nil {
		return a, b, err
	}
	a, err = g.self(m)
	return a, b, err
}

// punch times a hole punch between the requester a and the node b it names:
// each side is told to start so that both start at about the same moment,
// from the round-trip times the gateway measured to each.
func (g *Gateway) punch(ctx context.Context, m *connector.Message) (*punchPlan, error) {
	a, b, err := g.pair(m)
	if err != nil {
		return nil, err
	}
	rttA, _ := g.conns[a.via].RTT(a.id)
	rttB, _ := g.conns[b.via].RTT(b.id)
	start := max(rttA, rttB)/2 + 10*time.Millisecond
	dial := aDials(a, b)
	toB := punchPlan{Node: string(a.id), Addrs: a.candidates(), Dial: !dial, DelayMs: (start - rttB/2).Milliseconds()}
	if err := g.notify(ctx, b, typePunchNotify, &toB); err != nil {
		return nil, err
	}
	return &punchPlan{Node: string(b.id), Addrs: b.candidates(), Dial: dial, DelayMs: (start - rttA/2).Milliseconds()}, nil
}

// notify sends a control message to a registered bridge over its own
// connection to the gateway and waits for its acknowledgement.
func (g *Gateway) notify(ctx context.Context, to record, typ string, v any) error {
	payload, err := encode(v)
	if err != nil {
		return err
	}
	_, err = g.conns[to.via].Request(ctx, connector.Outbound{Target: connector.Target{NodeID: to.id}, Type: typ, Payload: payload})
	if err != nil {
		return &connector.RemoteError{Code: connector.CodeUnavailable, Text: fmt.Sprintf("gateway: telling %s: %v", to.id.Short(), err)}
	}
	return nil
}

// relayAsk opens a relay session between the requester and the node it
// names. The other side learns the session before the requester does, so
// it is ready for the requester's first packet.
func (g *Gateway) relayAsk(ctx context.Context, m *connector.Message) (*relayGrant, error) {
	a, b, err := g.pair(m)
	if err != nil {
		return nil, err
	}
	s, err := newSessionID()
	if err != nil {
		return nil, err
	}
	g.relay.open(s, a, b, time.Now())
	if err := g.notify(ctx, b, typeRelayNotify, &relayGrant{Node: string(a.id), Session: s[:]}); err != nil {
		g.relay.close(s)
		return nil, err
	}
	g.log.Info("relay session opened", "a", a.id.Short(), "b", b.id.Short())
	return &relayGrant{Node: string(b.id), Session: s[:]}, nil
}

// isControl reports whether a message type is a NAT traversal control type.
func isControl(typ string) bool { return strings.HasPrefix(typ, ControlPrefix) }
