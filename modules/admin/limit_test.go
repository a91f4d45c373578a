package admin

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// waitLimit bounds every wait of these tests.
const waitLimit = 10 * time.Second

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Gatherer = prometheus.NewRegistry()
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// keepAlive opens a connection, has /healthz answered on it, and leaves it
// open and idle.
func keepAlive(t *testing.T, s *Server) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.Addr().String(), waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(waitLimit))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: admin\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return c
}

// closedByServer reports whether the server closes c before the deadline.
func closedByServer(c net.Conn, deadline time.Time) bool {
	c.SetReadDeadline(deadline)
	_, err := c.Read(make([]byte, 1))
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// TestIdleConnectionIsClosed: a keep-alive connection with no request is
// closed after IdleTimeout.
func TestIdleConnectionIsClosed(t *testing.T) {
	s := start(t, Config{Addr: "127.0.0.1:0", IdleTimeout: 100 * time.Millisecond})
	c := keepAlive(t, s)
	if !closedByServer(c, time.Now().Add(waitLimit)) {
		t.Fatalf("an idle connection was still open after %v (IdleTimeout 100ms)", waitLimit)
	}
}

// TestHealthzAnswersPastTheLimit: with MaxConns idle connections open and
// more arriving, /healthz still answers at once: the connections idle
// longest make room.
func TestHealthzAnswersPastTheLimit(t *testing.T) {
	s := start(t, Config{Addr: "127.0.0.1:0", MaxConns: 4})
	var idle []net.Conn
	for range 20 {
		idle = append(idle, keepAlive(t, s))
	}
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	r, err := c.Get("http://" + s.Addr().String() + "/healthz")
	if err != nil {
		t.Fatalf("/healthz with 20 idle connections against a limit of 4: %v", err)
	}
	r.Body.Close()
	if !closedByServer(idle[0], time.Now().Add(waitLimit)) {
		t.Error("the connection idle longest is still open")
	}
	if st := s.Stats(); st.Conns > 4 || st.IdleClosed < 17 || st.Refused != 0 {
		t.Errorf("stats %+v, want at most 4 open, at least 17 idle ones closed, none refused", st)
	}
}

// TestBusyServerRefuses: with MaxConns requests being served, a new
// connection is closed at once and counted.
func TestBusyServerRefuses(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	s := start(t, Config{Addr: "127.0.0.1:0", MaxConns: 2, Checks: []Check{{Name: "slow", Fn: func() error {
		entered <- struct{}{}
		<-release
		return nil
	}}}})
	c := &http.Client{Timeout: waitLimit, Transport: &http.Transport{DisableKeepAlives: true}}
	done := make(chan error, 2)
	for range 2 {
		go func() {
			r, err := c.Get("http://" + s.Addr().String() + "/healthz")
			if err == nil {
				r.Body.Close()
			}
			done <- err
		}()
	}
	for range 2 {
		<-entered
	}
	extra, err := net.DialTimeout("tcp", s.Addr().String(), waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if !closedByServer(extra, time.Now().Add(waitLimit)) {
		t.Error("a connection past the limit was not closed")
	}
	close(release)
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("a request being served: %v", err)
		}
	}
	if st := s.Stats(); st.Refused != 1 {
		t.Errorf("stats %+v, want 1 refused", st)
	}
}

// TestHostlessAddrIsLoopback: ":0" binds loopback, not every interface.
func TestHostlessAddrIsLoopback(t *testing.T) {
	s := start(t, Config{Addr: ":0"})
	if ip := s.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		t.Errorf(":0 bound %v, want loopback", ip)
	}
}
