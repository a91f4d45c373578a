// Package connectortest starts real connectors for the tests of other
// packages, as net/http/httptest starts real servers: a fresh key, a real
// UDP socket on loopback, closed when the test ends.
package connectortest

import (
	"context"
	"testing"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// Start starts a connector with a freshly generated key, cfg (an empty
// ListenAddr means a free loopback port) and handler h (nil leaves inbound
// requests unhandled: they are answered 503), and closes it when the test
// ends. It fails the test if the connector cannot start.
func Start(tb testing.TB, cfg connector.Config, h connector.Handler) *connector.Connector {
	tb.Helper()
	id, err := identity.Generate()
	if err != nil {
		tb.Fatalf("connectortest: generating a key: %v", err)
	}
	return StartAs(tb, cfg, id, h)
}

// StartAs is Start with identity id: a key with a credential or a policy
// (see identity.WithCredential, WithPolicy).
func StartAs(tb testing.TB, cfg connector.Config, id *identity.Identity, h connector.Handler) *connector.Connector {
	tb.Helper()
	c, err := connector.New(cfg, id, nil)
	if err != nil {
		tb.Fatalf("connectortest: %v", err)
	}
	if h != nil {
		c.SetHandler(h)
	}
	if err := c.Start(tb.Context()); err != nil {
		tb.Fatalf("connectortest: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// Accepting returns a handler that answers every request with an empty
// reply and accepts every message.
func Accepting() connector.Handler { return connector.HandlerFunc(accept) }

func accept(_ context.Context, _ *connector.Message) (*connector.Response, error) {
	return &connector.Response{}, nil
}
