package connector

import (
	"context"
	"errors"
	"net/netip"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// EventKind says what happened to a peer connection.
type EventKind int

// Kinds of Event.
const (
	// EventOpened: a connection to a peer was established and adopted.
	EventOpened EventKind = iota + 1
	// EventClosed: a connection ended; Reason says why.
	EventClosed
	// EventPathChanged: the pooled connection to a peer moved from one path
	// to another (relayed -> punched, for example).
	EventPathChanged
)

// String returns the kind in words: opened, closed, path changed.
func (k EventKind) String() string {
	switch k {
	case EventOpened:
		return "opened"
	case EventClosed:
		return "closed"
	case EventPathChanged:
		return "path changed"
	}
	return "unknown"
}

// Event is a change in the connector's peer connections, for logs and
// metrics.
type Event struct {
	Kind EventKind
	// Node is the peer.
	Node identity.NodeID
	// Path is the connection's path; for EventPathChanged the new one.
	Path Path
	// From is the path before, for EventPathChanged.
	From Path
	// Remote is the peer's address as this socket sees it.
	Remote netip.AddrPort
	// Reason is why an EventClosed connection ended.
	Reason string
	// BytesIn and BytesOut are what a closed connection carried, QUIC
	// overhead included; set for EventClosed.
	BytesIn, BytesOut uint64
}

// SetEvents installs f to be told of every connection opened, closed and
// path change. f runs on the connector's goroutines and must not block.
// A nil f removes it.
func (c *Connector) SetEvents(f func(Event)) { c.events.Store(&f) }

func (c *Connector) emit(e Event) {
	if f := c.events.Load(); f != nil && *f != nil {
		(*f)(e)
	}
}

// opened reports pc's adoption, and a path change if pc took the place of a
// pooled connection on another path.
func (c *Connector) opened(pc, pooled *peerConn, before Path) {
	remote := addrPort(pc.qc.RemoteAddr())
	c.emit(Event{Kind: EventOpened, Node: pc.id, Path: pc.path, Remote: remote})
	if pooled == pc && before != "" && before != pc.path {
		c.emit(Event{Kind: EventPathChanged, Node: pc.id, Path: pc.path, From: before, Remote: remote})
	}
}

// closed reports the end of pc. Its streams may fail a moment before the
// connection's context records why, so it waits for that.
func (c *Connector) closed(pc *peerConn) {
	<-pc.qc.Context().Done()
	st := pc.qc.ConnectionStats()
	c.emit(Event{
		Kind: EventClosed, Node: pc.id, Path: pc.path, Remote: addrPort(pc.qc.RemoteAddr()),
		Reason: closeReason(context.Cause(pc.qc.Context())), BytesIn: st.BytesReceived, BytesOut: st.BytesSent,
	})
}

// closeReason is a short reason a connection ended with err.
func closeReason(err error) string {
	var app *quic.ApplicationError
	var idle *quic.IdleTimeoutError
	switch {
	case errors.As(err, &app) && app.Remote:
		return "closed by peer: " + app.ErrorMessage
	case errors.As(err, &app):
		return app.ErrorMessage
	case errors.As(err, &idle):
		return "peer silent: timeout"
	case err == nil:
		return "closed"
	}
	return err.Error()
}
