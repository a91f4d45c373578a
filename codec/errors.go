package codec

import (
	"errors"
	"fmt"
)

// Decoding and encoding errors. Wrapped errors from this package match one of
// these with errors.Is.
var (
	// ErrFrameTooLarge reports a frame or payload over the configured limit.
	ErrFrameTooLarge = errors.New("codec: frame too large")
	// ErrUnknownVersion reports a frame whose version byte this build does not know.
	ErrUnknownVersion = errors.New("codec: unknown frame version")
	// ErrMalformed reports a frame that cannot be parsed.
	ErrMalformed = errors.New("codec: malformed frame")
)

// SizeError reports a frame or payload larger than its limit. It matches
// ErrFrameTooLarge.
type SizeError struct {
	// What names the thing that was too large ("frame", "payload", "envelope").
	What string
	// Size is the size seen, Limit the most allowed.
	Size, Limit int
}

// Error implements error.
func (e *SizeError) Error() string {
	return fmt.Sprintf("codec: %s of %d bytes exceeds limit of %d", e.What, e.Size, e.Limit)
}

// Is reports whether target is ErrFrameTooLarge.
func (e *SizeError) Is(target error) bool { return target == ErrFrameTooLarge }

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}
