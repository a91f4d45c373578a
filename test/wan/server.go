package wan

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// readyStep is how long one readiness check may block before ctx is
// looked at again; pollEvery paces polling for a leaf link.
const (
	readyStep = 50 * time.Millisecond
	pollEvery = 5 * time.Millisecond
)

// startServer starts a nats-server with opts (logging and signals off, a
// free client port on loopback unless opts say otherwise) and waits until
// it accepts clients or ctx ends.
func startServer(ctx context.Context, name string, opts *server.Options) (*server.Server, error) {
	opts.ServerName = name
	opts.NoLog, opts.NoSigs = true, true
	if opts.Host == "" {
		opts.Host, opts.Port = "127.0.0.1", server.RANDOM_PORT
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("wan: nats-server %s: %w", name, err)
	}
	s.Start()
	for !s.ReadyForConnections(readyStep) {
		if err := ctx.Err(); err != nil {
			stopServer(s)
			return nil, fmt.Errorf("wan: nats-server %s not ready: %w", name, err)
		}
	}
	return s, nil
}

// stopServer shuts s down and waits until it has stopped.
func stopServer(s *server.Server) {
	s.Shutdown()
	s.WaitForShutdown()
}

// leafURL is where s accepts leaf nodes, given the address it listens on.
func leafURL(host string, opts *server.Options) *url.URL {
	// The server writes the port it picked into its options before it is
	// ready for connections.
	return &url.URL{Scheme: "nats-leaf", Host: net.JoinHostPort(host, strconv.Itoa(opts.LeafNode.Port))}
}

// waitLeafNodes waits until s has a leaf-node connection or ctx ends.
func waitLeafNodes(ctx context.Context, s *server.Server) error {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for s.NumLeafNodes() < 1 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wan: waiting for the leaf link: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// connect opens a client connection that does not reconnect and reports
// asynchronous errors nowhere (the measurements count what is lost).
func connect(ctx context.Context, url, name string) (*nats.Conn, error) {
	timeout := DefaultSetupTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	nc, err := nats.Connect(url, nats.Name(name), nats.Timeout(timeout), nats.NoReconnect(),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		return nil, fmt.Errorf("wan: connecting %s to %s: %w", name, url, err)
	}
	return nc, nil
}
