package bridge

import (
	"bytes"
	"strings"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
)

// Headers the bridge reads and writes. Headers starting with Peer- belong to
// the bridge: it strips them from what it forwards, both ways.
const (
	// HeaderNode names the target peer's node ID. It may repeat.
	HeaderNode = "Peer-Node"
	// HeaderEndpoint names the target peer's host:port.
	HeaderEndpoint = "Peer-Endpoint"
	// HeaderTimeout is a Go duration overriding the default timeout.
	HeaderTimeout = "Peer-Timeout"
	// HeaderRelay names the gateway to relay through if the peer needs a
	// relay: "NODEID@host:port".
	HeaderRelay = "Peer-Relay"
	// HeaderPunch set to "skip" goes from a failed direct dial straight to
	// the relay, without hole punching.
	HeaderPunch = "Peer-Punch"
	// HeaderFrom is the node ID of the peer a message or reply came from.
	HeaderFrom = "Peer-From"
	// HeaderPath says how the connection to the peer runs: direct, punched
	// or relayed.
	HeaderPath = "Peer-Path"
	// HeaderConn says whether a request used a pooled connection ("reused")
	// or a new one ("dialed").
	HeaderConn = "Peer-Conn"
	// HeaderErrorCode and HeaderError carry an error as NATS micro does.
	HeaderErrorCode = "Nats-Service-Error-Code"
	HeaderError     = "Nats-Service-Error"
)

// Values of HeaderConn.
const (
	ConnReused = "reused"
	ConnDialed = "dialed"
)

// bridgePrefix starts every header that belongs to the bridge.
const bridgePrefix = "peer-"

func isBridgeHeader(key string) bool {
	return len(key) >= len(bridgePrefix) && strings.EqualFold(key[:len(bridgePrefix)], bridgePrefix)
}

// isBridgeKey is isBridgeHeader for a key read from a raw header block.
func isBridgeKey(key []byte) bool {
	return len(key) >= len(bridgePrefix) && bytes.EqualFold(key[:len(bridgePrefix)], []byte(bridgePrefix))
}

// peerHeaders are the bridge's headers of an outbound message, as slices of
// its raw header block, in the order they came, whatever the case of their
// keys.
type peerHeaders struct {
	nodes, endpoints, timeout, relay, punch [][]byte

	node1, endpoint1 [1][]byte // where nodes and endpoints of one peer are kept
}

// init readies p for a message, whose nodes and endpoints are then kept
// in p itself when there is one of each.
func (p *peerHeaders) init() {
	*p = peerHeaders{}
	p.nodes, p.endpoints = p.node1[:0], p.endpoint1[:0]
}

// add records the bridge header key: value; one the bridge does not know
// is dropped, as every bridge header is. The key's length picks the one
// or two names it may be.
func (p *peerHeaders) add(key, value []byte) {
	is := func(name string) bool { return bytes.EqualFold(key, []byte(name)) }
	switch len(key) {
	case len(HeaderNode):
		if is(HeaderNode) {
			p.nodes = append(p.nodes, value)
		}
	case len(HeaderEndpoint):
		if is(HeaderEndpoint) {
			p.endpoints = append(p.endpoints, value)
		}
	case len(HeaderTimeout):
		if is(HeaderTimeout) {
			p.timeout = append(p.timeout, value)
		}
	case len(HeaderRelay): // and HeaderPunch
		if is(HeaderRelay) {
			p.relay = append(p.relay, value)
		} else if is(HeaderPunch) {
			p.punch = append(p.punch, value)
		}
	}
}

// splitHeaders reads the bridge's headers of the raw block h into own and
// returns the others, the ones to forward, as a map with their keys as
// they came; nil when there are none, as for most messages.
func splitHeaders(h natsconn.Header, own *peerHeaders) (rest map[string][]string) {
	for k, v := range h.All() {
		if isBridgeKey(k) {
			own.add(k, v)
		} else {
			rest = setHeader(rest, string(k), string(v))
		}
	}
	return rest
}

// setHeader appends values to key in h, making h if it is nil. A key not
// yet in h takes values as they are, without a copy: headers are only read.
func setHeader(h map[string][]string, key string, values ...string) map[string][]string {
	if h == nil {
		h = make(map[string][]string, 1)
	}
	if cur, ok := h[key]; ok {
		h[key] = append(cur[:len(cur):len(cur)], values...)
	} else {
		h[key] = values
	}
	return h
}
