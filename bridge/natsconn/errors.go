package natsconn

import (
	"errors"
	"strings"
)

// Sentinel errors a caller may branch on with errors.Is.
var (
	// ErrClosed: the Conn was closed by Close.
	ErrClosed = errors.New("natsconn: connection closed")
	// ErrConnectionLost: the connection to the server broke (the server
	// went away, or a read or write failed).
	ErrConnectionLost = errors.New("natsconn: connection lost")
	// ErrMaxPayload: a message is larger than the server's max_payload.
	ErrMaxPayload = errors.New("natsconn: maximum payload exceeded")
	// ErrBadSubject: a subject, reply subject or queue name is not valid.
	ErrBadSubject = errors.New("natsconn: invalid subject")
	// ErrBadHeader: a header block does not start with "NATS/1.0" or does
	// not end with an empty line.
	ErrBadHeader = errors.New("natsconn: invalid header block")
	// ErrHeadersNotSupported: the server does not take headers.
	ErrHeadersNotSupported = errors.New("natsconn: server does not support headers")
	// ErrPendingFull: more than Options.MaxPending bytes wait to be written.
	ErrPendingFull = errors.New("natsconn: write buffer full")
	// ErrProtocol: the server sent something that is not the NATS protocol,
	// or that breaks a bound (control line, payload size).
	ErrProtocol = errors.New("natsconn: protocol error")
	// ErrTLSRequired: the server requires TLS and Options.TLSConfig is nil.
	ErrTLSRequired = errors.New("natsconn: server requires TLS")
	// ErrStaleConnection: the server or the pinger found the peer silent.
	ErrStaleConnection = errors.New("natsconn: stale connection")

	// ErrPermission: the server refused a publish or subscription
	// ("Permissions Violation ..."). Not fatal: the Conn stays open.
	ErrPermission = errors.New("natsconn: permissions violation")
	// ErrAuthorization: the server refused the credentials. Fatal.
	ErrAuthorization = errors.New("natsconn: authorization violation")
	// ErrServer matches every ServerError whose text has no sentinel of its own.
	ErrServer = errors.New("natsconn: server error")
)

// ServerError is a -ERR the server sent. It matches, with errors.Is, the
// sentinel of its kind (ErrPermission, ErrAuthorization, ErrMaxPayload,
// ErrBadSubject, ErrStaleConnection, or else ErrServer).
type ServerError struct {
	// Text is the server's message without its quotes.
	Text string
	kind error
}

func newServerError(text string) *ServerError {
	return &ServerError{Text: text, kind: serverErrorKind(strings.ToLower(text))}
}

func serverErrorKind(lower string) error {
	switch {
	case strings.HasPrefix(lower, "permissions violation"):
		return ErrPermission
	case strings.HasPrefix(lower, "invalid subject"), strings.HasPrefix(lower, "invalid publish subject"):
		return ErrBadSubject
	case strings.Contains(lower, "authorization violation"), strings.Contains(lower, "authentication"),
		strings.Contains(lower, "expired"), strings.Contains(lower, "revoked"):
		return ErrAuthorization
	case strings.HasPrefix(lower, "maximum payload"):
		return ErrMaxPayload
	case strings.HasPrefix(lower, "stale connection"):
		return ErrStaleConnection
	}
	return ErrServer
}

func (e *ServerError) Error() string { return "natsconn: server: " + e.Text }

func (e *ServerError) Unwrap() error { return e.kind }

// Fatal reports whether the server closes the connection after this error.
// Permission violations and invalid subjects leave it open; nats-server
// closes it after every other -ERR, and so does the Conn.
func (e *ServerError) Fatal() bool { return e.kind != ErrPermission && e.kind != ErrBadSubject }
