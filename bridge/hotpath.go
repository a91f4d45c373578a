package bridge

import (
	"context"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
)

// hotPath is the NATS connection of the bridge's hot path: the
// subscriptions to the send and request subjects, the publishes of what
// peers send, and the answers on reply subjects. directPath speaks the NATS
// protocol itself (package natsconn), for the embedded NATS; natsGoPath
// runs on a nats.go connection, for an external NATS with TLS, credentials
// and reconnect.
type hotPath interface {
	// subscribe hands each message on subject, shared with the other
	// members of queue, to h; the message is valid only during the call.
	subscribe(subject, queue string, h natsconn.Handler) (hotSub, error)
	// publish publishes data with a raw header block (nil: none) without
	// waiting for the network.
	publish(subject, reply string, header, data []byte) error
	// flush waits until the server has everything sent before it.
	flush(ctx context.Context) error
	// err says why the connection is down; nil while it is up.
	err() error
	// close writes what is buffered and releases what the path owns.
	close() error
}

// hotSub is a subscription of a hotPath.
type hotSub interface {
	// drain ends the subscription once the messages the server sent
	// before it are handled; at once if ctx ends (it then returns why) or
	// the connection is lost (nothing more can arrive then).
	drain(ctx context.Context) error
}

// answer is what the bridge publishes on a reply subject: a raw header
// block (nil: none) and a payload.
type answer struct {
	header natsconn.Header
	data   []byte
}
