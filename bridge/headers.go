package bridge

import (
	"net/textproto"
	"strings"

	"github.com/nats-io/nats.go"
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

// splitHeaders separates the bridge's headers, keyed in canonical form
// ("Peer-Node") whatever case they came in, from the ones to forward. When
// every bridge header in h is keyed canonically already, as it almost
// always is, own is h itself, other headers included, to spare a map per
// message: look bridge headers up in own by their canonical keys only.
func splitHeaders(h nats.Header) (own, rest map[string][]string) {
	canonical := true
	for k, v := range h {
		if !isBridgeHeader(k) {
			rest = setHeader(rest, k, v...)
		} else if k != textproto.CanonicalMIMEHeaderKey(k) {
			canonical = false
		}
	}
	if canonical {
		return h, rest
	}
	for k, v := range h {
		if isBridgeHeader(k) {
			own = setHeader(own, textproto.CanonicalMIMEHeaderKey(k), v...)
		}
	}
	return own, rest
}

// withoutBridgeHeaders copies h without the bridge's headers, so a peer
// cannot set them.
func withoutBridgeHeaders(h map[string][]string) nats.Header {
	out := make(nats.Header, len(h)+3)
	for k, v := range h {
		if !isBridgeHeader(k) {
			out[k] = v
		}
	}
	return out
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
