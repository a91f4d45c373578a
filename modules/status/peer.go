package status

import (
	"slices"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// Peer is one entry of the peers endpoint's answer.
type Peer struct {
	// Node is the peer's node ID.
	Node string `json:"node"`
	// Path is direct, punched or relayed.
	Path string `json:"path"`
	// Endpoint is the peer's address as the bridge sees it (the relay's
	// for a relayed connection).
	Endpoint string `json:"endpoint"`
	// RTTMillis is QUIC's smoothed round-trip time in milliseconds.
	RTTMillis float64 `json:"rtt_ms"`
	// BytesIn and BytesOut are the bytes the connection carried each way.
	BytesIn  uint64 `json:"bytes_in"`
	BytesOut uint64 `json:"bytes_out"`
	// Since is when the connection was established; AgeSeconds is how long
	// ago that was when the bridge answered.
	Since      time.Time `json:"since"`
	AgeSeconds float64   `json:"age_s"`
	// Membership says why the bridge accepts the peer: "open", "allowed by
	// list", "member of account A...". Empty from a bridge that does not
	// say.
	Membership string `json:"membership,omitempty"`
	// Gateway is set when the node is one of the bridge's gateways: its
	// connection serves NAT traversal, and it is not counted as a peer.
	Gateway bool `json:"gateway,omitempty"`
}

// peersOf converts the connector's snapshot of pooled connections.
func peersOf(infos []connector.PeerInfo, now time.Time, membership func(identity.NodeID) string, gateways []identity.NodeID) []Peer {
	out := make([]Peer, 0, len(infos))
	for _, p := range infos {
		if !p.Pooled {
			continue
		}
		out = append(out, Peer{
			Node: string(p.Node), Path: string(p.Path), Endpoint: p.Remote.String(),
			RTTMillis: float64(p.RTT.Microseconds()) / 1000,
			BytesIn:   p.BytesIn, BytesOut: p.BytesOut,
			Since: p.Since.UTC(), AgeSeconds: float64(now.Sub(p.Since).Round(time.Millisecond).Milliseconds()) / 1000,
			Membership: membership(p.Node),
			Gateway:    slices.Contains(gateways, p.Node),
		})
	}
	return out
}
