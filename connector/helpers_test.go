package connector

import (
	"context"
	"testing"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// startNode starts a connector on loopback that echoes requests and records
// sends on the returned channel.
func startNode(t testing.TB, cfg Config) (*Connector, chan *Message) {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return startNodeWith(t, cfg, id)
}

func startNodeWith(t testing.TB, cfg Config, id *identity.Identity) (*Connector, chan *Message) {
	t.Helper()
	c, err := New(cfg, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *Message, 4096)
	c.SetHandler(HandlerFunc(func(ctx context.Context, m *Message) (*Response, error) {
		if m.Kind == 1 { // codec.KindSend
			got <- m
			return nil, nil
		}
		return &Response{Headers: m.Headers, Payload: m.Payload}, nil
	}))
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, got
}

func targetOf(c *Connector) Target {
	return Target{NodeID: c.NodeID(), Endpoint: c.Addr().String()}
}
