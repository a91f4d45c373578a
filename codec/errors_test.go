package codec

import (
	"errors"
	"fmt"
	"testing"
)

func TestSizeError(t *testing.T) {
	err := fmt.Errorf("sending: %w", &SizeError{What: "payload", Size: 2048, Limit: 1024})
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Error("a wrapped *SizeError does not match ErrFrameTooLarge")
	}
	if errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnknownVersion) {
		t.Error("a *SizeError matches another sentinel")
	}
	if got, want := err.Error(), "sending: codec: payload of 2048 bytes exceeds limit of 1024"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestMalformedWrapsSentinel(t *testing.T) {
	err := malformed("field %d: %s", 3, "bad")
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("%v does not match ErrMalformed", err)
	}
	if got, want := err.Error(), "codec: malformed frame: field 3: bad"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}
