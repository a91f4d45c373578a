package hostile

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/modules"
	"github.com/peerbridge/peerbridge/modules/admin"
)

// idleAttackConns is how many idle keep-alive connections the attack on
// --http holds: far past the limit, few enough for one test process.
const idleAttackConns = 1000

// keepAliveIdle opens a connection to addr, has /healthz answered on it and
// leaves it open and idle; nil if the server would not answer.
func keepAliveIdle(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testTimeout))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: victim\r\n\r\n"); err != nil {
		return nil
	}
	r, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return c
}

// stillOpen counts the connections the server has not closed: a read that
// waits wait for nothing is an open one; a closed one answers at once. Each
// read gets its own deadline: a read past a deadline fails without looking
// at the connection, closed or not.
func stillOpen(conns []net.Conn, wait time.Duration) int {
	n := 0
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(wait))
		_, err := c.Read(make([]byte, 1))
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			n++
		}
	}
	return n
}

// 1,000 idle keep-alive connections to a bridge's --http: at most
// --http-max-conns stay open, and /healthz answers at once.
func TestHTTPIdleConnections(t *testing.T) {
	var srv *admin.Server
	startDaemon(t, modules.Config{HTTP: "127.0.0.1:0"}, &srv)
	addr := srv.Addr().String()
	var conns []net.Conn
	for range idleAttackConns {
		if c := keepAliveIdle(t, addr); c != nil {
			conns = append(conns, c)
		}
	}
	start := time.Now()
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	r, err := hc.Get("http://" + addr + "/healthz")
	took := time.Since(start)
	if err == nil {
		r.Body.Close()
	}
	// The server closes the connection idle longest as each new one comes,
	// on its own goroutine: the count settles within moments.
	open := stillOpen(conns, 20*time.Millisecond)
	for settle := time.Now().Add(5 * time.Second); open > admin.DefaultMaxConns && time.Now().Before(settle); {
		open = stillOpen(conns, 20*time.Millisecond)
	}
	t.Logf("%d idle keep-alive connections (%d answered): %d still open; /healthz err=%v in %v",
		idleAttackConns, len(conns), open, err, took.Round(time.Millisecond))
	if err != nil || r.StatusCode != http.StatusOK {
		t.Errorf("/healthz under the attack: %v", err)
	}
	if open > admin.DefaultMaxConns {
		t.Errorf("%d idle connections still open, want at most %d", open, admin.DefaultMaxConns)
	}
}
