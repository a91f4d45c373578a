package connector

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/peerbridge/peerbridge/codec"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// Target names a peer: its node ID, an endpoint ("host:port"), or both. With
// both, the peer at the endpoint must prove the node ID.
type Target struct {
	NodeID   identity.NodeID
	Endpoint string
}

// String returns "ID@endpoint", "ID" or "endpoint".
func (t Target) String() string {
	switch {
	case t.NodeID != "" && t.Endpoint != "":
		return string(t.NodeID) + "@" + t.Endpoint
	case t.NodeID != "":
		return string(t.NodeID)
	}
	return t.Endpoint
}

// ParseTarget parses "NODEID@host:port", "NODEID" or "host:port".
func ParseTarget(s string) (Target, error) {
	id, ep, found := strings.Cut(s, "@")
	if !found {
		if strings.Contains(s, ":") {
			id, ep = "", s
		} else {
			id, ep = s, ""
		}
	}
	var t Target
	if id != "" {
		nid, err := identity.ParseNodeID(id)
		if err != nil {
			return Target{}, fmt.Errorf("%w: %w", ErrBadTarget, err)
		}
		t.NodeID = nid
	}
	if ep != "" {
		if _, _, err := net.SplitHostPort(ep); err != nil {
			return Target{}, fmt.Errorf("%w: endpoint %q: %w", ErrBadTarget, ep, err)
		}
		t.Endpoint = ep
	}
	if t == (Target{}) {
		return Target{}, fmt.Errorf("%w: empty", ErrBadTarget)
	}
	return t, nil
}

// Path says how a connection to a peer runs.
type Path string

// Paths a connection can take.
const (
	PathDirect  Path = "direct"
	PathPunched Path = "punched"
	PathRelayed Path = "relayed"
)

// Message is an inbound message or request from a peer.
type Message struct {
	// From is the sender's node ID, proved by its TLS certificate.
	From identity.NodeID
	// Kind is codec.KindSend or codec.KindRequest.
	Kind codec.Kind
	// Type is the message type.
	Type string
	// Headers are the sender's headers.
	Headers map[string][]string
	// Payload is the message body.
	Payload []byte
	// Path is how the connection it came on runs.
	Path Path
	// Remote is the peer's address as this node sees it.
	Remote netip.AddrPort
}

// Response is a handler's answer to a request.
type Response struct {
	Headers map[string][]string
	Payload []byte
}

// Handler serves inbound messages. For a request, its Response is the reply
// and an error becomes a RemoteError at the requester (a *RemoteError is sent
// as it is; any other error as code 500). For a send, an error is reported to
// the sender instead of the acknowledgement.
type Handler interface {
	ServePeer(ctx context.Context, m *Message) (*Response, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, m *Message) (*Response, error)

// ServePeer calls f.
func (f HandlerFunc) ServePeer(ctx context.Context, m *Message) (*Response, error) { return f(ctx, m) }

// Reply is a peer's answer to a request.
type Reply struct {
	// From is the node that answered.
	From identity.NodeID
	// Headers and Payload are the answer.
	Headers map[string][]string
	Payload []byte
	// Path is how the connection runs; Reused is true if it came from the
	// pool rather than a dial made for this request.
	Path   Path
	Reused bool
	// Remote is the address of the peer that carried the request.
	Remote netip.AddrPort
}

// Result is the outcome of a message to one peer (SendAsync, or one
// peer's part of a SendMany).
type Result struct {
	// Target is the target as it was given.
	Target Target
	// NodeID is the peer that acknowledged, Remote the address of the
	// connection that carried the message (which may differ from an
	// endpoint hint in Target, if a pooled connection was used), and Path
	// how that connection runs. They are set only if Err is nil.
	NodeID identity.NodeID
	Remote netip.AddrPort
	Path   Path
	Err    error
}
