// Package natpunchtest starts real gateways for the tests of other
// packages, as connectortest starts connectors: a fresh key, real UDP and
// TCP sockets on loopback, closed when the test ends. It also holds the
// small pieces NAT traversal tests share: a black hole, a fresh identity, a
// polling wait with a deadline and an echoing handler.
//
// It does not start bridges' NAT clients: the natpunch package's own tests
// use this package, and a client starter here would import natpunch back.
// A client is three calls on a connector from connectortest.Start:
// natpunch.NewClient, SetHandler(cl.Handler(h)) and Start.
package natpunchtest

import (
	"context"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
)

// Identity returns a freshly generated identity.
func Identity(tb testing.TB) *identity.Identity {
	tb.Helper()
	id, err := identity.Generate()
	if err != nil {
		tb.Fatalf("natpunchtest: generating a key: %v", err)
	}
	return id
}

// Logger returns a debug logger on stderr naming node when the environment
// sets PEERBRIDGE_TEST_LOG, and nil (no logs) otherwise.
func Logger(node string) *slog.Logger {
	if os.Getenv("PEERBRIDGE_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", node)
}

// StartGateway runs a gateway configured by cfg, on two loopback ports
// unless cfg.Listen names others, and closes it when the test ends.
func StartGateway(tb testing.TB, cfg gateway.Config) *gateway.Gateway {
	tb.Helper()
	if len(cfg.Listen) == 0 {
		cfg.Listen = []string{"127.0.0.1:0", "127.0.0.1:0"}
	}
	g, err := gateway.New(cfg, Identity(tb), Logger("gateway"))
	if err != nil {
		tb.Fatalf("natpunchtest: %v", err)
	}
	if err := g.Start(tb.Context()); err != nil {
		tb.Fatalf("natpunchtest: %v", err)
	}
	tb.Cleanup(func() { g.Close() })
	return g
}

// StartNATS runs a nats-server on a random loopback port, as gateways of
// a fleet share one, and shuts it down when the test ends.
func StartNATS(tb testing.TB) *server.Server {
	tb.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		tb.Fatalf("natpunchtest: %v", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		tb.Fatal("natpunchtest: nats-server not ready")
	}
	tb.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// Target is g's first address as a gateway target for ClientConfig.
func Target(g *gateway.Gateway) connector.Target {
	return connector.Target{NodeID: g.NodeID(), Endpoint: g.Addrs()[0].String()}
}

// BlackHole is a UDP socket on loopback that reads nothing and answers
// nothing, like a network that drops UDP.
func BlackHole(tb testing.TB) *net.UDPConn {
	tb.Helper()
	u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatalf("natpunchtest: %v", err)
	}
	tb.Cleanup(func() { u.Close() })
	return u
}

// WaitUntil polls cond every 10 ms until it holds (true) or ctx ends
// (false).
func WaitUntil(ctx context.Context, cond func() bool) bool {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// Echo answers every request with its own payload and accepts every
// message.
func Echo() connector.Handler {
	return connector.HandlerFunc(func(_ context.Context, m *connector.Message) (*connector.Response, error) {
		return &connector.Response{Payload: m.Payload}, nil
	})
}
