package admin

import (
	"context"
	"errors"
	"fmt"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check is one part of /healthz: Fn returns nil while the part is healthy
// and the reason otherwise.
type Check struct {
	Name string
	Fn   func() error
}

// Defaults of Config's bounds.
const (
	// DefaultMaxConns is how many connections the server keeps open: enough
	// for a few scrapers and probes, few enough to cost no file
	// descriptors the daemon needs.
	DefaultMaxConns = 64
	// DefaultReadHeaderTimeout bounds the wait for a request's headers.
	DefaultReadHeaderTimeout = 5 * time.Second
	// DefaultReadTimeout bounds the reading of a whole request.
	DefaultReadTimeout = 10 * time.Second
	// DefaultWriteTimeout bounds the writing of a response.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultIdleTimeout closes a keep-alive connection with no request
	// for this long.
	DefaultIdleTimeout = 30 * time.Second
)

// Config configures a Server. A zero bound means its default.
type Config struct {
	// Addr is the TCP address to listen on ("127.0.0.1:9090"; port 0
	// picks a free one). Without a host (":9090") it is loopback's:
	// serving other hosts takes a host ("0.0.0.0:9090"). Required.
	Addr string
	// Gatherer is the registry /metrics serves. Required.
	Gatherer prometheus.Gatherer
	// Checks are what /healthz reports on.
	Checks []Check
	// MaxConns is the most connections open at once; past it the one idle
	// longest is closed, or the newcomer when none is idle. Default
	// DefaultMaxConns.
	MaxConns int
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are
	// http.Server's. Defaults DefaultReadHeaderTimeout, DefaultReadTimeout,
	// DefaultWriteTimeout and DefaultIdleTimeout.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// populate fills the zero fields with their defaults and makes a host-less
// Addr loopback's.
func (c *Config) populate() {
	if host, port, err := net.SplitHostPort(c.Addr); err == nil && host == "" {
		c.Addr = net.JoinHostPort("127.0.0.1", port)
	}
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	set(&c.ReadTimeout, DefaultReadTimeout)
	set(&c.WriteTimeout, DefaultWriteTimeout)
	set(&c.IdleTimeout, DefaultIdleTimeout)
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
}

// validate reports a config New cannot serve.
func (c *Config) validate() error {
	switch {
	case c.Addr == "" || c.Gatherer == nil:
		return errors.New("admin: Addr and Gatherer are required")
	case c.MaxConns < 0 || c.ReadHeaderTimeout < 0 || c.ReadTimeout < 0 || c.WriteTimeout < 0 || c.IdleTimeout < 0:
		return errors.New("admin: MaxConns and the timeouts must not be negative")
	}
	return nil
}

// Server serves /metrics and /healthz. Make it with New, bind it with Start,
// stop it with Close.
type Server struct {
	cfg  Config
	log  *slog.Logger
	ln   net.Listener
	srv  *http.Server
	cs   *conns
	done chan struct{} // closed when Serve has returned
}

// New returns a server; it does no I/O.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	cfg.populate()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, cs: newConns(cfg.MaxConns), done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", s.healthz)
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ConnState:         s.cs.track,
		ErrorLog:          stdlog.New(errorLog{log}, "", 0),
	}
	return s, nil
}

// Start binds the listener and serves on a goroutine Close waits for.
func (s *Server) Start(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("admin: listening on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(limitListener{Listener: ln, cs: s.cs}); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	s.log.Info("serving /metrics and /healthz", "addr", ln.Addr().String())
	return nil
}

// Addr returns the bound address; nil before Start.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Stats returns the server's connection counts.
func (s *Server) Stats() Stats { return s.cs.stats() }

// Close stops serving, closes open connections and waits for the server's
// goroutine.
func (s *Server) Close() error {
	if s.ln == nil {
		return nil
	}
	err := s.srv.Close()
	<-s.done
	return err
}

// errorLog writes net/http's own error lines as warnings under one message,
// so that the logger's rate limit holds them.
type errorLog struct{ log *slog.Logger }

func (e errorLog) Write(p []byte) (int, error) {
	e.log.Warn("http server error", "err", strings.TrimSpace(string(p)))
	return len(p), nil
}
