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
// is the same target: the first is kept, with its endpoint. More than limit
// distinct targets fail with ErrTooManyTargets.
func targets(dst []connector.Target, own map[string][]string, limit int) ([]connector.Target, error) {
	nodes, endpoints := own[HeaderNode], own[HeaderEndpoint]
	switch {
	case len(nodes) == 0 && len(endpoints) == 0:
		return nil, fmt.Errorf("%w: no %s or %s header", ErrBadRequest, HeaderNode, HeaderEndpoint)
	case len(nodes) > 0 && len(endpoints) > 0 && len(nodes) != len(endpoints):
		return nil, fmt.Errorf("%w: %d %s and %d %s headers do not pair up",
			ErrBadRequest, len(nodes), HeaderNode, len(endpoints), HeaderEndpoint)
	}
	for i := range max(len(nodes), len(endpoints)) {
		t, err := target(at(nodes, i), at(endpoints, i))
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(dst, func(u connector.Target) bool { return sameTarget(t, u) }) {
			continue
		}
		if len(dst) == limit {
			return nil, fmt.Errorf("%w: more than %d distinct %s or %s values", ErrTooManyTargets, limit, HeaderNode, HeaderEndpoint)
		}
		dst = append(dst, t)
	}
	return dst, nil
}

// sameTarget reports whether a and b are one target: the same node, or the
// same endpoint where neither names a node.
func sameTarget(a, b connector.Target) bool {
	if a.NodeID != "" || b.NodeID != "" {
		return a.NodeID == b.NodeID
	}
	return a.Endpoint == b.Endpoint
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
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
func timeout(own map[string][]string, def time.Duration) (time.Duration, error) {
	v := own[HeaderTimeout]
	if len(v) == 0 {
		return def, nil
	}
	d, err := time.ParseDuration(v[0])
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
func routeOptions(own map[string][]string) (connector.NATOptions, error) {
	var opts connector.NATOptions
	if v := own[HeaderRelay]; len(v) > 0 {
		t, err := connector.ParseTarget(v[0])
		if err != nil || t.NodeID == "" || t.Endpoint == "" || len(v) > 1 {
			return opts, fmt.Errorf("%w: %s %q is not one NODEID@host:port", ErrBadRequest, HeaderRelay, v[0])
		}
		opts.RelayEndpoint = v[0]
	}
	if v := own[HeaderPunch]; len(v) > 0 {
		if len(v) > 1 || v[0] != PunchSkip {
			return opts, fmt.Errorf("%w: %s %q: the only value is %q", ErrBadRequest, HeaderPunch, v[0], PunchSkip)
		}
		opts.SkipHolePunch = true
	}
	return opts, nil
}
