package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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

// Config configures a Server.
type Config struct {
	// Addr is the TCP address to listen on ("127.0.0.1:9090"; port 0
	// picks a free one). Required.
	Addr string
	// Gatherer is the registry /metrics serves. Required.
	Gatherer prometheus.Gatherer
	// Checks are what /healthz reports on.
	Checks []Check
}

// Server serves /metrics and /healthz. Make it with New, bind it with Start,
// stop it with Close.
type Server struct {
	cfg  Config
	log  *slog.Logger
	ln   net.Listener
	srv  *http.Server
	done chan struct{} // closed when Serve has returned
}

// New returns a server; it does no I/O.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if cfg.Addr == "" || cfg.Gatherer == nil {
		return nil, errors.New("admin: Addr and Gatherer are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", s.healthz)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
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
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
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
