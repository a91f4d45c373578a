package natpunch

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// CodeRateLimited is the error code of a control request refused by a
// rate limit; try again later.
const CodeRateLimited = 429

// maxNodeRequest bounds a lookup, punch or relay request's payload,
// checked before it is decoded: it names one node ID.
const maxNodeRequest = 256

// handler serves control requests arriving on listen address i. Each
// operation is rate-limited per key and in total before it does any work.
func (g *Gateway) handler(i int) connector.Handler {
	return connector.HandlerFunc(func(ctx context.Context, m *connector.Message) (*connector.Response, error) {
		var (
			v   any
			err error
		)
		r := &g.rates
		switch m.Type {
		case typeRegister:
			if !allow(r.register, &r.registerLimited, m.From) {
				return nil, rateLimited(m.Type)
			}
			v, err = g.register(i, m)
		case typeLookup:
			if !allow(r.lookup, &r.lookupLimited, m.From) {
				return nil, rateLimited(m.Type)
			}
			v, err = g.lookup(m)
		case typePunchAsk:
			if !allow(r.punch, &r.punchLimited, m.From) {
				return nil, rateLimited(m.Type)
			}
			v, err = g.punch(ctx, m)
		case typeRelayAsk:
			if !allow(r.relay, &r.relayLimited, m.From) {
				return nil, rateLimited(m.Type)
			}
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

func rateLimited(typ string) error {
	return &connector.RemoteError{Code: CodeRateLimited, Text: "gateway: too many " + typ + " requests"}
}

func badRequest(format string, args ...any) error {
	return &connector.RemoteError{Code: connector.CodeBadRequest, Text: fmt.Sprintf("gateway: "+format, args...)}
}

func (g *Gateway) register(i int, m *connector.Message) (*registered, error) {
	rec, err := g.record(i, m)
	if err != nil {
		g.reg.invalid.Add(1)
		return nil, err
	}
	if old, ok := g.reg.get(m.From, time.Now()); ok && (old.observed != m.Remote || old.via != i) {
		g.log.Info("bridge moved", "node", m.From.Short(), "from", old.observed, "to", m.Remote)
		g.relay.rebind(m.From, m.Remote, i)
	}
	if err := g.reg.put(rec); err != nil {
		return nil, &connector.RemoteError{Code: connector.CodeUnavailable, Text: "gateway: " + err.Error()}
	}
	resp := &registered{Observed: m.Remote.String()}
	for j, a := range g.addrs {
		if j != i {
			resp.Others = append(resp.Others, a.String())
		}
	}
	return resp, nil
}

// record checks a registration and makes the record to store: its size
// before it is decoded, then every field, keeping only canonical copies so
// a record holds no more than a few hundred bytes whatever was sent.
func (g *Gateway) record(i int, m *connector.Message) (record, error) {
	l := g.cfg.Limits
	if len(m.Payload) > l.MaxRecordBytes {
		return record{}, &connector.RemoteError{Code: connector.CodeTooLarge, Text: fmt.Sprintf("gateway: registration of %d bytes, at most %d", len(m.Payload), l.MaxRecordBytes)}
	}
	var req registration
	if err := decode(m.Payload, &req); err != nil {
		return record{}, badRequest("%v", err)
	}
	if len(req.Local) > l.MaxLocalAddrs {
		return record{}, badRequest("%d local addresses, at most %d", len(req.Local), l.MaxLocalAddrs)
	}
	local := make([]string, 0, len(req.Local))
	for _, a := range req.Local {
		ap, err := checkLocalAddr(a)
		if err != nil {
			return record{}, badRequest("%v", err)
		}
		local = append(local, ap.String())
	}
	mapping, ok1 := canonical(req.Mapping, MappingIndependent, MappingDependent)
	filtering, ok2 := canonical(req.Filtering, FilteringIndependent, FilteringDependent)
	if !ok1 || !ok2 {
		return record{}, badRequest("unknown NAT behaviour")
	}
	if g.onTCP(m.Remote) { // tcprelay: UDP cannot reach a node on the TCP relay
		mapping, filtering = MappingDependent, FilteringDependent
	}
	return record{
		id: m.From, observed: m.Remote, local: local, mapping: mapping, filtering: filtering,
		via: i, expires: time.Now().Add(g.cfg.RegistrationTTL),
	}, nil
}

// checkLocalAddr parses a claimed local address: a unicast IP and a port.
func checkLocalAddr(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return ap, fmt.Errorf("natpunch: local address: %w", err)
	}
	ip := ap.Addr().Unmap()
	if ap.Port() == 0 || ip.IsUnspecified() || ip.IsMulticast() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return ap, fmt.Errorf("natpunch: local address %s is not a unicast address and port", s)
	}
	return netip.AddrPortFrom(ip, ap.Port()), nil
}

// canonical returns the constant among Unknown, "" and known that s
// equals, so a record keeps no string of the sender's.
func canonical(s string, known ...string) (string, bool) {
	for _, k := range append(known, Unknown, "") {
		if s == k {
			return k, true
		}
	}
	return "", false
}

// peer returns the live record of the node a request names.
func (g *Gateway) peer(m *connector.Message) (record, error) {
	var req nodeRequest
	if len(m.Payload) > maxNodeRequest {
		return record{}, badRequest("request of %d bytes, at most %d", len(m.Payload), maxNodeRequest)
	}
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
	if g.onTCP(a.observed) || g.onTCP(b.observed) { // tcprelay: no punch over TCP
		return nil, &connector.RemoteError{Code: connector.CodeUnavailable, Text: "gateway: no hole punch with a node on the TCP relay"}
	}
	if !allow(g.rates.notify, &g.rates.notifyLimited, b.id) {
		return nil, rateLimited(m.Type + " toward " + b.id.Short())
	}
	rttA, _ := g.conns[a.via].RTT(a.id)
	rttB, _ := g.conns[b.via].RTT(b.id)
	start := max(rttA, rttB)/2 + 10*time.Millisecond
	dial := aDials(a, b)
	toB := punchPlan{Node: string(a.id), Observed: a.observed.String(), Addrs: a.candidates(), Dial: !dial, DelayMs: (start - rttB/2).Milliseconds()}
	if err := g.notify(ctx, b, typePunchNotify, &toB); err != nil {
		return nil, err
	}
	return &punchPlan{Node: string(b.id), Observed: b.observed.String(), Addrs: b.candidates(), Dial: dial, DelayMs: (start - rttA/2).Milliseconds()}, nil
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
	if a.id == b.id {
		return nil, badRequest("a relay to oneself")
	}
	if !allow(g.rates.notify, &g.rates.notifyLimited, b.id) {
		return nil, rateLimited(m.Type + " toward " + b.id.Short())
	}
	s, err := newSessionID()
	if err != nil {
		return nil, err
	}
	if err := g.relay.open(s, a, b, time.Now()); err != nil {
		return nil, &connector.RemoteError{Code: connector.CodeUnavailable, Text: "gateway: " + err.Error()}
	}
	if err := g.notify(ctx, b, typeRelayNotify, &relayGrant{Node: string(a.id), Session: s[:]}); err != nil {
		g.relay.close(s)
		g.relay.refused.Add(1)
		return nil, err
	}
	g.log.Info("relay session opened", "a", a.id.Short(), "b", b.id.Short())
	return &relayGrant{Node: string(b.id), Session: s[:]}, nil
}

// isControl reports whether a message type is a NAT traversal control type.
func isControl(typ string) bool { return strings.HasPrefix(typ, connector.ReservedTypePrefix) }
