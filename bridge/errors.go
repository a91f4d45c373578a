package bridge

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
	"github.com/peerbridge/peerbridge/connector"
)

// Errors the bridge answers with; match them with errors.Is.
var (
	// ErrBadRequest: a missing or malformed header, subject or type (400).
	ErrBadRequest = errors.New("bridge: bad request")
	// ErrTooLarge: a payload over Config.MaxPayload (413).
	ErrTooLarge = errors.New("bridge: payload too large")
	// ErrTooManyTargets: a message names more than Config.MaxTargets
	// distinct peers (400).
	ErrTooManyTargets = errors.New("bridge: too many targets")
	// ErrBusy: Config.MaxInFlight requests, or Config.MaxSends messages,
	// are already waiting (503).
	ErrBusy = errors.New("bridge: too much in flight")
	// ErrNotRunning: the bridge is not started, or stopping (503).
	ErrNotRunning = errors.New("bridge: not running")
	// ErrForbidden: the peer may not send this type here, by its allow
	// entry or its credential's permissions (403). A peer this bridge does
	// not accept, or that does not accept this bridge, is answered 403 too
	// (connector.ErrNotAllowed, connector.ErrRefusedByPeer).
	ErrForbidden = errors.New("bridge: forbidden")
	// ErrBadReply: the peer's reply cannot be passed on as it is (502).
	ErrBadReply = errors.New("bridge: peer's reply cannot be delivered")
)

// codeOf returns the NATS micro error code and text for err.
func codeOf(err error) (int, string) {
	var re *connector.RemoteError
	if errors.As(err, &re) {
		return re.Code, re.Text
	}
	return classify(err), err.Error()
}

// classify maps err to a code. The connector's and the bridge's own errors
// decide first: an unreachable peer whose dial ran out of time is 503, not
// 504.
func classify(err error) int {
	switch {
	case isAny(err, ErrBadRequest, ErrTooManyTargets, connector.ErrBadTarget):
		return connector.CodeBadRequest
	case isAny(err, ErrForbidden, connector.ErrNotAllowed) || connector.RefusedByPeer(err):
		return connector.CodeForbidden
	case errors.Is(err, ErrBadReply):
		return connector.CodeBadGateway
	case errors.Is(err, connector.ErrUnknownPeer):
		return connector.CodeNotFound
	case isAny(err, ErrTooLarge, connector.ErrFrameTooLarge, nats.ErrMaxPayload, natsconn.ErrMaxPayload):
		return connector.CodeTooLarge
	case isAny(err, ErrBusy, ErrNotRunning, connector.ErrUnreachable, connector.ErrDeliveryUnknown,
		connector.ErrIdentityMismatch, connector.ErrClosed, connector.ErrBusy, connector.ErrGoingAway,
		natsconn.ErrPendingFull, natsconn.ErrConnectionLost, natsconn.ErrStaleConnection, natsconn.ErrClosed):
		return connector.CodeUnavailable
	case isAny(err, connector.ErrTimeout, context.DeadlineExceeded, nats.ErrTimeout):
		return connector.CodeTimeout
	case isAny(err, context.Canceled, nats.ErrNoResponders):
		return connector.CodeUnavailable
	}
	return connector.CodeInternal
}

func isAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// remoteError returns err as the *connector.RemoteError a peer receives.
func remoteError(err error) *connector.RemoteError {
	code, text := codeOf(err)
	return &connector.RemoteError{Code: code, Text: text}
}

// errorMsg is a NATS micro error reply: the error headers and no payload,
// and Peer-From if the remote side produced the error.
func errorMsg(err error) answer {
	code, text := codeOf(err)
	h := errorHeader(code, text)
	var re *connector.RemoteError
	if errors.As(err, &re) && re.From != "" {
		h = natsconn.AppendHeader(h, HeaderFrom, re.From.String())
	}
	return answer{header: h}
}

// errorHeader is the raw header block of a NATS micro error.
func errorHeader(code int, text string) natsconn.Header {
	h := natsconn.AppendHeader(nil, HeaderErrorCode, strconv.Itoa(code))
	return natsconn.AppendHeader(h, HeaderError, headerValue(text))
}

// headerValue makes text safe as a NATS header value.
func headerValue(text string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, text)
}
