package portmap

import (
	"errors"
	"fmt"
)

// Sentinel errors; callers branch on them with errors.Is.
var (
	// ErrTruncated reports a reply shorter than its layout.
	ErrTruncated = errors.New("portmap: truncated reply")
	// ErrMalformed reports a reply that is not a reply of the protocol:
	// another version, not a response, or another operation.
	ErrMalformed = errors.New("portmap: malformed reply")
	// ErrNoGateway reports that no default gateway is known.
	ErrNoGateway = errors.New("portmap: no default gateway")
	// ErrNoRouter reports that the router did not answer, or answered
	// that it does not offer the protocol.
	ErrNoRouter = errors.New("portmap: router offers no port mapping")
	// ErrRefused reports a router that answered with an error.
	ErrRefused = errors.New("portmap: router refused")
)

// ResultError is a router's non-zero result code. It matches ErrRefused,
// and ErrNoRouter where the code says the protocol is not offered.
type ResultError struct {
	Protocol Protocol
	Code     int
}

func (e *ResultError) Error() string {
	return fmt.Sprintf("portmap: %s result code %d", e.Protocol, e.Code)
}

// Is makes a ResultError match ErrRefused, and ErrNoRouter for the codes
// that mean "not here": unsupported version or opcode.
func (e *ResultError) Is(target error) bool {
	switch target {
	case ErrRefused:
		return true
	case ErrNoRouter:
		return e.unsupported()
	}
	return false
}

func (e *ResultError) unsupported() bool {
	switch e.Protocol {
	case NATPMP:
		return e.Code == pmpUnsupportedVersion || e.Code == pmpUnsupportedOpcode
	case PCP:
		return e.Code == pcpUnsuppVersion || e.Code == pcpUnsuppOpcode
	}
	return false
}
