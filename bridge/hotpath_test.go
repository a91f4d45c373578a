package bridge

import (
	"context"
	"errors"
	"net"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// TestNATSGoPath: on nats.go, as for an external NATS, the bridge forwards
// messages and requests, headers both ways, and answers errors as on its
// own protocol.
func TestNATSGoPath(t *testing.T) {
	a, b := startNATSGoNode(t, startNATS(t), Config{}), startNATSGoNode(t, startNATS(t), Config{})
	sub := subscribe(t, b.nc, "peer.recv.note")
	serve(t, b.nc, "peer.recv.echo", func(m *nats.Msg) *nats.Msg {
		return &nats.Msg{Header: nats.Header{"X-Resp": {"pong"}}, Data: m.Data}
	})

	ack := request(t, a.nc, "peer.send.note", with(to(b), "X-Trace", "abc"), []byte("hi"))
	got := next(t, sub)
	reply := request(t, a.nc, "peer.request.echo", to(b), []byte("ping"))
	missing := request(t, a.nc, "peer.request.echo", nats.Header{}, nil)

	if string(ack.Data) != ackOne {
		t.Errorf("ack %q, want %s", ack.Data, ackOne)
	}
	if want := (nats.Header{HeaderFrom: {a.id()}, "X-Trace": {"abc"}}); string(got.Data) != "hi" || !reflect.DeepEqual(got.Header, want) {
		t.Errorf("delivered %q with %v, want hi with %v", got.Data, got.Header, want)
	}
	if string(reply.Data) != "ping" || reply.Header.Get("X-Resp") != "pong" || reply.Header.Get(HeaderFrom) != b.id() {
		t.Errorf("reply %q with %v", reply.Data, reply.Header)
	}
	if errCode(missing) != "400" {
		t.Errorf("a request without target answered %q, want 400", errCode(missing))
	}
}

// TestQueueGroupAcrossPaths: a bridge on nats.go and one on its own
// protocol, on one NATS, share the queue group.
func TestQueueGroupAcrossPaths(t *testing.T) {
	srv := startNATS(t)
	requireShared(t, startNodeOn(t, srv, Config{}), startNATSGoNode(t, srv, Config{}))
}

// TestLostConnectionIsReestablished: when the server cuts the bridge's own
// connection off, what peers send is refused with 503 and NATSErr says so
// until the bridge has connected and subscribed anew; then both ways work
// again.
func TestLostConnectionIsReestablished(t *testing.T) {
	srv := startNATS(t)
	var refuse atomic.Bool
	dial := func(context.Context) (net.Conn, error) {
		if refuse.Load() {
			return nil, errors.New("refused by the test")
		}
		return srv.InProcessConn()
	}
	a := startNodeWith(t, srv, Config{Dial: dial})
	b := startNode(t, Config{})
	recv := subscribe(t, a.nc, "peer.recv.note")
	subscribe(t, b.nc, "peer.recv.back")

	refuse.Store(true)
	disconnectBridge(t, srv)
	waitFor(t, func() bool { return a.bridge.NATSErr() != nil })
	if m := request(t, b.nc, "peer.send.note", to(a), []byte("lost")); errCode(m) != "503" {
		t.Errorf("a message to a bridge without NATS answered %q, want 503", errCode(m))
	}

	refuse.Store(false)
	waitFor(t, func() bool { return a.bridge.NATSErr() == nil })
	if m := request(t, b.nc, "peer.send.note", to(a), []byte("back")); errCode(m) != "" {
		t.Errorf("after reconnecting, a message to the bridge answered %q", errCode(m))
	}
	if got := next(t, recv); string(got.Data) != "back" {
		t.Errorf("delivered %q, want back", got.Data)
	}
	// The subscriptions were made anew.
	if m := request(t, a.nc, "peer.send.back", to(b), nil); errCode(m) != "" || string(m.Data) != ackOne {
		t.Errorf("after reconnecting, a send answered %q %q", errCode(m), m.Data)
	}
}

// disconnectBridge makes srv cut off the bridge's own connection.
func disconnectBridge(t *testing.T, srv *server.Server) {
	t.Helper()
	cz, err := srv.Connz(&server.ConnzOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cz.Conns {
		if c.Name == "peerbridge" {
			if err := srv.DisconnectClientByID(c.Cid); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("no connection named peerbridge")
}

// waitFor polls cond until it holds, failing the test after wait.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond) // polling state, bounded by the deadline
	}
}
