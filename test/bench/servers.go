package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

const (
	// loopback is the only address the benchmark listens on or dials.
	loopback = "127.0.0.1"
	// readyStep is how long one readiness check may block before ctx is
	// looked at again.
	readyStep = 50 * time.Millisecond
	// pollEvery is the interval of bounded polling loops that wait for a
	// server-side event (a leaf link coming up).
	pollEvery = 5 * time.Millisecond
	// defaultConnectTimeout bounds a client connect when ctx has no deadline.
	defaultConnectTimeout = 5 * time.Second
)

// ServerConfig describes one embedded nats-server. The zero value is a plain
// server listening for clients on a random loopback port.
type ServerConfig struct {
	// Name is the server's name, shown in its INFO and useful when
	// debugging; empty lets the server pick its ID.
	Name string
	// LeafListen makes the server accept leaf-node connections on a random
	// loopback port; see [Server.LeafURL].
	LeafListen bool
	// LeafRemotes are leaf-node hubs this server connects to as a spoke.
	LeafRemotes []*url.URL
	// Configure, if set, may change the options last, before the server is
	// created (for example to enable JetStream or set limits).
	Configure func(*server.Options)
}

// Server is an embedded nats-server started by [StartServer]. It embeds the
// *server.Server so every method of the server is at hand (ClientURL,
// NumLeafNodes, or nats.InProcessServer(s.Server)).
type Server struct {
	*server.Server
	opts *server.Options
}

// StartServer starts an embedded nats-server on 127.0.0.1 with a random
// client port (and a random leaf-node port when cfg.LeafListen), logging
// and signal handling off, and waits until it accepts connections or ctx
// ends. Stop it with [Server.Stop].
func StartServer(ctx context.Context, cfg ServerConfig) (*Server, error) {
	opts := &server.Options{
		ServerName: cfg.Name,
		Host:       loopback,
		Port:       server.RANDOM_PORT,
		NoLog:      true,
		NoSigs:     true,
	}
	if cfg.LeafListen {
		opts.LeafNode.Host = loopback
		opts.LeafNode.Port = server.RANDOM_PORT
		opts.LeafNode.Compression.Mode = server.CompressionOff
	}
	for _, u := range cfg.LeafRemotes {
		opts.LeafNode.Remotes = append(opts.LeafNode.Remotes, &server.RemoteLeafOpts{
			URLs:        []*url.URL{u},
			Compression: server.CompressionOpts{Mode: server.CompressionOff},
		})
	}
	if cfg.Configure != nil {
		cfg.Configure(opts)
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("bench: creating nats-server %q: %w", cfg.Name, err)
	}
	ns.Start()
	s := &Server{Server: ns, opts: opts}
	if err := s.awaitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// awaitReady waits until the server's listeners are up or ctx ends.
func (s *Server) awaitReady(ctx context.Context) error {
	for !s.ReadyForConnections(readyStep) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("bench: nats-server %s not ready: %w", s.ID(), err)
		}
	}
	return nil
}

// Stop shuts the server down and waits until it has stopped.
func (s *Server) Stop() {
	s.Shutdown()
	s.WaitForShutdown()
}

// LeafURL is the nats-leaf:// URL at which the server accepts leaf-node
// connections. It fails unless the server was started with
// ServerConfig.LeafListen.
func (s *Server) LeafURL() (*url.URL, error) {
	// The server writes the resolved random port into its options before
	// ReadyForConnections, which StartServer waited for, can succeed.
	port := s.opts.LeafNode.Port
	if port <= 0 {
		return nil, errors.New("bench: nats-server has no leaf-node listener")
	}
	return &url.URL{Scheme: "nats-leaf", Host: net.JoinHostPort(loopback, strconv.Itoa(port))}, nil
}

// Connect opens a client connection to the server over loopback TCP. The
// connection does not reconnect and reports asynchronous errors (such as
// slow-consumer drops, which the benchmarks count themselves) nowhere.
// ctx's deadline, if any, bounds the connect.
func (s *Server) Connect(ctx context.Context, name string) (*nats.Conn, error) {
	timeout := defaultConnectTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bench: connecting %s: %w", name, err)
	}
	nc, err := nats.Connect(s.ClientURL(),
		nats.Name(name),
		nats.Timeout(timeout),
		nats.NoReconnect(),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}),
	)
	if err != nil {
		return nil, fmt.Errorf("bench: connecting %s to %s: %w", name, s.ClientURL(), err)
	}
	return nc, nil
}

// WaitLeafNodes waits until the server has at least n leaf-node
// connections, polling in a loop that ends with ctx.
func (s *Server) WaitLeafNodes(ctx context.Context, n int) error {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for s.NumLeafNodes() < n {
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench: waiting for %d leaf node(s) on %s (have %d): %w",
				n, s.ID(), s.NumLeafNodes(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}
