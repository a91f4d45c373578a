package natsconn

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natstest "github.com/nats-io/nats-server/v2/test"
	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait for an event in these tests.
const wait = 5 * time.Second

// runServer runs a real NATS server with opts on a random loopback port,
// through nats-server's own test helper (which sets NoLog).
func runServer(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	opts.Host, opts.Port, opts.NoSigs = "127.0.0.1", -1, true
	s := natstest.RunServer(opts)
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// dial connects a Conn to s and closes it when the test ends.
func dial(t testing.TB, s *server.Server, opts Options) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	c, err := Dial(ctx, s.ClientURL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dialNATS connects a nats.go client to s.
func dialNATS(t testing.TB, s *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func flush(t testing.TB, c *Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// copied is a Msg whose slices outlive the Handler call.
type copied struct {
	Subject, Reply string
	Header, Data   string
}

func copyMsg(m *Msg) copied {
	return copied{string(m.Subject), string(m.Reply), string(m.Header), string(m.Data)}
}

// collect subscribes and returns a channel of copies of what arrives.
func collect(t testing.TB, c *Conn, subject, queue string) <-chan copied {
	t.Helper()
	ch := make(chan copied, 1024)
	if _, err := c.Subscribe(subject, queue, func(m *Msg) { ch <- copyMsg(m) }); err != nil {
		t.Fatal(err)
	}
	flush(t, c)
	return ch
}

// receive returns the next value from ch, failing the test after wait.
func receive[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		var zero T
		t.Fatalf("nothing arrived in %v", wait)
		return zero
	}
}

// subscribeNATS subscribes nc and returns once the server has it.
func subscribeNATS(t testing.TB, nc *nats.Conn, subject string) *nats.Subscription {
	t.Helper()
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return sub
}
