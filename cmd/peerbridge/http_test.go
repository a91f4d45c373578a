package main

import (
	"errors"
	"io"
	"testing"

	"github.com/peerbridge/peerbridge/modules/admin"
)

// TestHTTPMaxConnsFlag: --http-max-conns defaults to the admin server's
// bound and must be positive.
func TestHTTPMaxConnsFlag(t *testing.T) {
	fs, f := newRunFlags(io.Discard)
	if err := parseFlags(fs, nil, io.Discard); err != nil {
		t.Fatal(err)
	}
	if f.cfg.HTTPMaxConns != admin.DefaultMaxConns {
		t.Errorf("default --http-max-conns %d, want %d", f.cfg.HTTPMaxConns, admin.DefaultMaxConns)
	}
	fs, f = newRunFlags(io.Discard)
	if err := parseFlags(fs, []string{"--http", ":9090", "--http-max-conns", "0"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := f.check(); !errors.As(err, new(*usageError)) {
		t.Errorf("--http-max-conns 0: %v, want a usage error", err)
	}
}
