package connector

import (
	"errors"
	"fmt"

	"github.com/peerbridge/peerbridge/codec"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// Errors a send or request can fail with; match them with errors.Is.
var (
	// ErrTimeout: no answer within the deadline.
	ErrTimeout = errors.New("connector: timeout")
	// ErrUnreachable: no connection to the peer could be made.
	ErrUnreachable = errors.New("connector: peer unreachable")
	// ErrUnknownPeer: a node ID with no known address.
	ErrUnknownPeer = errors.New("connector: unknown peer")
	// ErrDeliveryUnknown: the connection was lost after the message was
	// written, so it may or may not have arrived.
	ErrDeliveryUnknown = errors.New("connector: connection lost, delivery unknown")
	// ErrClosed: the connector is closed.
	ErrClosed = errors.New("connector: closed")
	// ErrBadTarget: a target with neither node ID nor endpoint, or a
	// malformed one.
	ErrBadTarget = errors.New("connector: bad target")
	// ErrIdentityMismatch: the peer at the endpoint proved a different key
	// than the node ID asked for. The error is an *identity.MismatchError.
	ErrIdentityMismatch = identity.ErrIdentityMismatch
	// ErrNotAllowed: this node's policy does not accept the peer (see
	// identity.Policy); the error is an *identity.NotAllowedError.
	ErrNotAllowed = identity.ErrNotAllowed
	// ErrRefusedByPeer: the peer's policy does not accept this node; it
	// ended the handshake.
	ErrRefusedByPeer = errors.New("connector: the peer does not accept this node")
	// ErrBusy: the peer's send queue, or the queues as a whole, are full;
	// the message was not sent (Config.MaxQueue, MaxQueues, MaxQueuedBytes).
	ErrBusy = errors.New("connector: busy")
	// ErrGoingAway: the peer said it is shutting down; nothing new is sent
	// to it on that connection.
	ErrGoingAway = errors.New("connector: peer going away")
	// ErrSlowPeer: the peer acknowledged nothing within Config.AckTimeout,
	// so its connection was closed and the messages waiting on it failed
	// (wrapped in ErrDeliveryUnknown: some may have arrived).
	ErrSlowPeer = errors.New("connector: peer did not acknowledge in time")
	// ErrFrameTooLarge: the message is over the payload limit.
	ErrFrameTooLarge = codec.ErrFrameTooLarge
)

// Error codes carried by RemoteError, following NATS micro's HTTP-like codes.
const (
	CodeBadRequest  = 400
	CodeForbidden   = 403
	CodeNotFound    = 404
	CodeTooLarge    = 413
	CodeInternal    = 500
	CodeBadGateway  = 502
	CodeUnavailable = 503
	CodeTimeout     = 504
)

// RemoteError is an error the remote side answered with.
type RemoteError struct {
	Code int
	Text string
	// From is the node that answered with it, when known.
	From identity.NodeID
}

// Error codes a peer may answer with: three digits, as HTTP's and NATS
// micro's, and an error's (4xx and up: a 200 is no error).
const (
	minCode = 400
	maxCode = 999
)

// remoteError is the RemoteError the error frame f of peer from carries. A code
// outside 400-999 (0, 200, 1000) cannot be passed on as an error code: it
// becomes 502, with the peer's code named in the text.
func remoteError(f *codec.Frame, from identity.NodeID) *RemoteError {
	if f.Code < minCode || f.Code > maxCode {
		return &RemoteError{Code: CodeBadGateway, Text: fmt.Sprintf("peer answered with invalid error code %d: %s", f.Code, f.Error), From: from}
	}
	return &RemoteError{Code: f.Code, Text: f.Error, From: from}
}

// Error implements error.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("connector: remote error %d: %s", e.Code, e.Text)
}

// Is matches ErrTimeout for code 504 and ErrFrameTooLarge for code 413, so
// callers can treat a timeout or a size limit on the far side like their own.
func (e *RemoteError) Is(target error) bool {
	return target == ErrTimeout && e.Code == CodeTimeout ||
		target == ErrFrameTooLarge && e.Code == CodeTooLarge
}
