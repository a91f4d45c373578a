package modules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/fx"
)

// NATS is the bridge's NATS connection and, when embedded, its server.
type NATS struct {
	Conn   *nats.Conn
	Server *server.Server // nil for an external NATS
	// ClientURL is where other programs reach this NATS.
	ClientURL string
	// Dial connects to the embedded server for the bridge's hot path,
	// which then speaks the NATS protocol itself (bridge.Config.Dial).
	// Nil for an external NATS: the hot path stays on Conn (nats.go), for
	// TLS, credentials and reconnect.
	Dial func(context.Context) (net.Conn, error)

	hotErr atomic.Pointer[func() error] // the bridge's NATSErr, once the bridge runs
}

// NATSModule provides *NATS: an embedded nats-server by default, or an
// external one by URL. Its fields are set when the app starts, so users read
// them in their own start hooks.
var NATSModule = fx.Module("nats",
	fx.Provide(newNATS),
)

func newNATS(lc fx.Lifecycle, cfg Config, log *slog.Logger) *NATS {
	n := &NATS{}
	log = log.With("component", "nats")
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error { return n.start(ctx, cfg.NATS, log) },
		OnStop:  func(ctx context.Context) error { return n.stop() },
	})
	return n
}

func (n *NATS) start(ctx context.Context, cfg NATSConfig, log *slog.Logger) error {
	if cfg.URL != "" {
		nc, err := ConnectExternal(ctx, cfg, log)
		n.Conn, n.ClientURL = nc, cfg.URL
		return err
	}
	ns, err := StartEmbedded(cfg.Listen)
	if err != nil {
		return err
	}
	opts := append([]nats.Option{nats.InProcessServer(ns), nats.Name("peerbridge")}, natsLogOptions(log)...)
	nc, err := nats.Connect("", opts...)
	if err != nil {
		ns.Shutdown()
		return fmt.Errorf("nats: connecting in process: %w", err)
	}
	n.Conn, n.Server, n.ClientURL = nc, ns, ns.ClientURL()
	n.Dial = dialLoopback(ns.Addr())
	log.Info("embedded nats-server running", "url", n.ClientURL)
	return nil
}

func (n *NATS) stop() error {
	if n.Conn != nil {
		n.Conn.Close()
	}
	if n.Server != nil {
		n.Server.Shutdown()
		n.Server.WaitForShutdown()
	}
	return nil
}

// dialLoopback dials the embedded server's client address addr, over
// loopback when it listens on every address. The bridge's hot path uses
// TCP rather than an in-process connection: the kernel's socket buffers
// let the server and the bridge each run while the other works, where
// the in-process pipe makes every write wait for the reader (the bridge's
// BenchmarkForward128 took about 6 us a message over TCP, 11-16 us in
// process, on two cores).
func dialLoopback(addr net.Addr) func(context.Context) (net.Conn, error) {
	target := addr.String()
	if ta, ok := addr.(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		lo := net.IPv4(127, 0, 0, 1)
		if ta.IP.To4() == nil {
			lo = net.IPv6loopback
		}
		target = net.JoinHostPort(lo.String(), strconv.Itoa(ta.Port))
	}
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", target)
	}
}

// watchHotPath has the health check report the bridge's own connection
// too, through err (the bridge's NATSErr).
func (n *NATS) watchHotPath(err func() error) { n.hotErr.Store(&err) }

// StartEmbedded starts a nats-server listening for clients on listen
// ("host:port"; port 0 picks a free one) and waits until it is ready.
func StartEmbedded(listen string) (*server.Server, error) {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("nats: listen address %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("nats: listen port %q: %w", portStr, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	ns, err := server.NewServer(&server.Options{Host: host, Port: port, NoLog: true, NoSigs: true, ServerName: "peerbridge"})
	if err != nil {
		return nil, fmt.Errorf("nats: embedded server: %w", err)
	}
	ns.Start()
	if ns.Addr() == nil { // Start binds synchronously: no listener means it failed
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, &ListenError{Addr: listen, Err: listenFailure(listen)}
	}
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("nats: embedded server not ready within 10s")
	}
	return ns, nil
}

// ConnectExternal connects to an external NATS, reconnecting for ever and
// logging disconnects, reconnects and asynchronous errors to log; subscriptions survive reconnects. A
// NATS that is down at start is retried in the background: the connection
// returned is then not yet connected. extra options come last.
func ConnectExternal(ctx context.Context, cfg NATSConfig, log *slog.Logger, extra ...nats.Option) (*nats.Conn, error) {
	opts := append([]nats.Option{
		nats.Name("peerbridge"),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(time.Second),
	}, natsLogOptions(log)...)
	if cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	if cfg.CAFile != "" {
		opts = append(opts, nats.RootCAs(cfg.CAFile))
	}
	if cfg.CertFile != "" || cfg.KeyFile != "" {
		opts = append(opts, nats.ClientCert(cfg.CertFile, cfg.KeyFile))
	}
	if d, ok := ctx.Deadline(); ok {
		opts = append(opts, nats.Timeout(time.Until(d)))
	}
	nc, err := nats.Connect(cfg.URL, append(opts, extra...)...)
	if err == nil && !nc.IsConnected() {
		log.Warn("nats not reachable yet; retrying", "url", cfg.URL)
	}
	if err != nil {
		return nil, fmt.Errorf("nats: connecting to %s: %w", cfg.URL, err)
	}
	return nc, nil
}
