package bridge

import (
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// targets appends to dst the peers a message is for, read from its bridge
// headers: each Peer-Node, each Peer-Endpoint, or as many of both, paired
// in order. A node named again, or an endpoint named again without a node,
// is the same target: the first is kept, with its endpoint. More
// distinct targets than Config.MaxTargets fail with ErrTooManyTargets. The last target read is
// remembered, so a run of messages to one peer parses it once.
func (b *Bridge) targets(dst []connector.Target, own *peerHeaders) ([]connector.Target, error) {
	nodes, endpoints := own.nodes, own.endpoints
	switch {
	case len(nodes) == 0 && len(endpoints) == 0:
		return nil, fmt.Errorf("%w: no %s or %s header", ErrBadRequest, HeaderNode, HeaderEndpoint)
	case len(nodes) > 0 && len(endpoints) > 0 && len(nodes) != len(endpoints):
		return nil, fmt.Errorf("%w: %d %s and %d %s headers do not pair up",
			ErrBadRequest, len(nodes), HeaderNode, len(endpoints), HeaderEndpoint)
	}
	for i := range max(len(nodes), len(endpoints)) {
		t, err := b.target(at(nodes, i), at(endpoints, i))
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(dst, func(u connector.Target) bool { return sameTarget(t, u) }) {
			continue
		}
		if len(dst) == b.cfg.MaxTargets {
			return nil, fmt.Errorf("%w: more than %d distinct %s or %s values", ErrTooManyTargets, b.cfg.MaxTargets, HeaderNode, HeaderEndpoint)
		}
		dst = append(dst, t)
	}
	return dst, nil
}

// targetMemo is the last target read from headers, with the values it
// was read from.
type targetMemo struct {
	node, endpoint string
	t              connector.Target
}

// target is the target named by node and endpoint, either of which may be
// empty: the last one read, if they name it again.
func (b *Bridge) target(node, endpoint []byte) (connector.Target, error) {
	if e := b.lastTo.Load(); e != nil && e.node == string(node) && e.endpoint == string(endpoint) {
		return e.t, nil
	}
	e := &targetMemo{node: string(node), endpoint: string(endpoint)}
	t, err := target(e.node, e.endpoint)
	if err == nil {
		e.t = t
		b.lastTo.Store(e)
	}
	return t, err
}

// sameTarget reports whether a and b are one target: the same node, or the
// same endpoint where neither names a node.
func sameTarget(a, b connector.Target) bool {
	if a.NodeID != "" || b.NodeID != "" {
		return a.NodeID == b.NodeID
	}
	return a.Endpoint == b.Endpoint
}

func at(s [][]byte, i int) []byte {
	if i < len(s) {
		return s[i]
	}
	return nil
}

// target checks a node ID and endpoint, either of which may be empty.
func target(node, endpoint string) (connector.Target, error) {
	var t connector.Target
	if node != "" {
		id, err := identity.ParseNodeID(node)
		if err != nil {
			return t, fmt.Errorf("%w: %s: %w", ErrBadRequest, HeaderNode, err)
		}
		t.NodeID = id
	}
	if endpoint != "" {
		if _, port, err := net.SplitHostPort(endpoint); err != nil || port == "" {
			return t, fmt.Errorf("%w: %s %q is not host:port", ErrBadRequest, HeaderEndpoint, endpoint)
		}
		t.Endpoint = endpoint
	}
	if t == (connector.Target{}) {
		return t, fmt.Errorf("%w: empty %s or %s header", ErrBadRequest, HeaderNode, HeaderEndpoint)
	}
	return t, nil
}

// timeout reads Peer-Timeout, or returns def without one.
func timeout(own *peerHeaders, def time.Duration) (time.Duration, error) {
	v := own.timeout
	if len(v) == 0 {
		return def, nil
	}
	d, err := time.ParseDuration(string(v[0]))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%w: %s %q is not a positive duration", ErrBadRequest, HeaderTimeout, v[0])
	}
	return d, nil
}

// PunchSkip is the one value of Peer-Punch: go from a failed direct dial
// straight to the relay.
const PunchSkip = "skip"

// routeOptions reads Peer-Relay ("NODEID@host:port", the gateway to relay
// through) and Peer-Punch ("skip").
func routeOptions(own *peerHeaders) (connector.NATOptions, error) {
	var opts connector.NATOptions
	if v := own.relay; len(v) > 0 {
		t, err := connector.ParseTarget(string(v[0]))
		if err != nil || t.NodeID == "" || t.Endpoint == "" || len(v) > 1 {
			return opts, fmt.Errorf("%w: %s %q is not one NODEID@host:port", ErrBadRequest, HeaderRelay, v[0])
		}
		opts.RelayEndpoint = string(v[0])
	}
	if v := own.punch; len(v) > 0 {
		if len(v) > 1 || string(v[0]) != PunchSkip {
			return opts, fmt.Errorf("%w: %s %q: the only value is %q", ErrBadRequest, HeaderPunch, v[0], PunchSkip)
		}
		opts.SkipHolePunch = true
	}
	return opts, nil
}
