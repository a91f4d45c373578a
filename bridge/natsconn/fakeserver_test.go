package natsconn

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeInfo is the INFO the fake server sends.
const fakeInfo = `INFO {"server_id":"fake","max_payload":1024,"headers":true,"proto":1}` + "\r\n"

// handshakeFake answers the handshake on srv: INFO, then PONG once CONNECT
// and PING arrived.
func handshakeFake(srv net.Conn) error {
	if _, err := io.WriteString(srv, fakeInfo); err != nil {
		return err
	}
	r := bufio.NewReader(srv)
	for _, want := range []string{"CONNECT {", "PING"} {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, want) {
			return errors.New("unexpected " + line)
		}
	}
	_, err := io.WriteString(srv, "PONG\r\n")
	return err
}

// fakeConn returns a Conn whose server is the test: the other end of a
// pipe, handshake done.
func fakeConn(t *testing.T, opts Options) (*Conn, net.Conn) {
	t.Helper()
	cli, srv := net.Pipe()
	t.Cleanup(func() { srv.Close() })
	hs := make(chan error, 1)
	go func() { hs <- handshakeFake(srv) }()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	c, err := New(ctx, cli, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := <-hs; err != nil {
		t.Fatal(err)
	}
	return c, srv
}

// discard reads and drops what the Conn writes, until the pipe closes.
func discard(t *testing.T, srv net.Conn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(io.Discard, srv)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
}

func waitDone(t *testing.T, c *Conn) error {
	t.Helper()
	select {
	case <-c.Done():
		return c.Err()
	case <-time.After(wait):
		t.Fatal("Conn still open")
		return nil
	}
}

func TestHandshakeHonoursContext(t *testing.T) {
	cli, srv := net.Pipe()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := New(ctx, cli, Options{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's error", err)
	}
}

func TestFlushHonoursContext(t *testing.T) {
	c, srv := fakeConn(t, Options{})
	discard(t, srv) // reads the PING, never answers
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := c.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's error", err)
	}
}

func TestStaleConnection(t *testing.T) {
	c, srv := fakeConn(t, Options{PingInterval: 10 * time.Millisecond, MaxPingsOut: 2})
	discard(t, srv)
	if err := waitDone(t, c); !errors.Is(err, ErrStaleConnection) {
		t.Fatalf("got %v, want ErrStaleConnection", err)
	}
}

// TestServerPingAnswered: a PING from the server gets a PONG.
func TestServerPingAnswered(t *testing.T) {
	_, srv := fakeConn(t, Options{})
	srv.SetDeadline(time.Now().Add(wait))
	io.WriteString(srv, "PING\r\n")
	line, err := bufio.NewReader(srv).ReadString('\n')
	if err != nil || line != "PONG\r\n" {
		t.Fatalf("got %q, %v", line, err)
	}
}

// TestHostileServer: what breaks the protocol or its bounds closes the
// Conn with ErrProtocol, never a panic or an unbounded allocation.
func TestHostileServer(t *testing.T) {
	cases := map[string]string{
		"payload over max_payload": "MSG foo 1 1025\r\n",
		"huge size":                "MSG foo 1 18446744073709551617\r\n",
		"endless control line":     "MSG " + strings.Repeat("x", 5000),
		"garbage":                  "HELLO\r\n",
		"header larger than msg":   "HMSG foo 1 10 5\r\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			c, srv := fakeConn(t, Options{})
			discard(t, srv)
			go io.WriteString(srv, in) // ends when the Conn closes the pipe
			if err := waitDone(t, c); !errors.Is(err, ErrProtocol) {
				t.Fatalf("got %v, want ErrProtocol", err)
			}
		})
	}
}

// TestPendingFull: a server that stops reading makes Publish refuse past
// MaxPending instead of buffering without bound.
func TestPendingFull(t *testing.T) {
	c, _ := fakeConn(t, Options{MaxPending: 1000, WriteTimeout: 50 * time.Millisecond})
	var err error
	for range 10 {
		if err = c.Publish("a", "", nil, make([]byte, 300)); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrPendingFull) {
		t.Fatalf("got %v, want ErrPendingFull", err)
	}
	if err := waitDone(t, c); !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("a write past WriteTimeout: %v, want ErrConnectionLost", err)
	}
}
