package connector

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/codec"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// testTimeout bounds every blocking call a test makes.
const testTimeout = 10 * time.Second

// startNode starts a connector on loopback that echoes requests and records
// sends on the returned channel.
func startNode(t testing.TB, cfg Config) (*Connector, chan *Message) {
	t.Helper()
	return startNodeWith(t, cfg, newIdentity(t))
}

func startNodeWith(t testing.TB, cfg Config, id *identity.Identity) (*Connector, chan *Message) {
	t.Helper()
	got := make(chan *Message, 4096)
	c := newNode(t, cfg, id, echoHandler(got))
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c, got
}

// newNode makes a connector that Close-s at the end of the test but does
// not start it. A nil h leaves the handler unset.
func newNode(t testing.TB, cfg Config, id *identity.Identity, h Handler) *Connector {
	t.Helper()
	c, err := New(cfg, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h != nil {
		c.SetHandler(h)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// echoHandler answers requests with their own headers and payload and puts
// sends on got.
func echoHandler(got chan<- *Message) Handler {
	return HandlerFunc(func(ctx context.Context, m *Message) (*Response, error) {
		if m.Kind == codec.KindSend {
			got <- m
			return nil, nil
		}
		return &Response{Headers: m.Headers, Payload: m.Payload}, nil
	})
}

// startNodes starts n echoing connectors.
func startNodes(t testing.TB, n int, cfg Config) []*Connector {
	t.Helper()
	cs := make([]*Connector, n)
	for i := range cs {
		cs[i], _ = startNode(t, cfg)
	}
	return cs
}

func newIdentity(t testing.TB) *identity.Identity {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func targetOf(c *Connector) Target {
	return Target{NodeID: c.NodeID(), Endpoint: c.Addr().String()}
}

// testCtx is the test's context with testTimeout.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds, failing the test after testTimeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", testTimeout, what)
		}
		time.Sleep(2 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

// recv takes one message from ch, failing the test after testTimeout.
func recv(t testing.TB, ch <-chan *Message) *Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(testTimeout):
		t.Fatal("no message arrived")
		return nil
	}
}

// deadEndpoint returns a loopback UDP address nobody listens on.
func deadEndpoint(t testing.TB) string {
	t.Helper()
	u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := u.LocalAddr().String()
	u.Close()
	return addr
}

// remoteCode returns the code and text of a *RemoteError in err, or zeros.
func remoteCode(err error) (int, string) {
	var re *RemoteError
	if !errors.As(err, &re) {
		return 0, ""
	}
	return re.Code, re.Text
}

// blackHole is a loopback UDP socket that reads and drops everything, as a
// peer behind a firewall that drops packets looks to a dialler.
func blackHole(t testing.TB) string {
	t.Helper()
	u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := u.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		u.Close()
		<-done
	})
	return u.LocalAddr().String()
}
