package e2e_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/modules"
)

// wait bounds every wait for an event in these tests.
const wait = 10 * time.Second

// node is one running daemon, composed exactly as 'peerbridge run' composes
// it, with a NATS client of the test's own.
type node struct {
	app  *fx.App
	conn *connector.Connector
	nats *modules.NATS
	nc   *nats.Conn
}

// startNode runs a daemon on loopback: QUIC on a free UDP port and, unless
// cfg names an external NATS, an embedded nats-server on a free TCP port.
func startNode(t *testing.T, cfg modules.Config) *node {
	t.Helper()
	cfg.KeyFile = filepath.Join(t.TempDir(), "node.key")
	cfg.Listen = "127.0.0.1:0"
	if cfg.NATS.URL == "" {
		cfg.NATS.Listen = "127.0.0.1:0"
	}
	n := &node{}
	n.app = fx.New(
		fx.NopLogger,
		fx.Supply(slog.New(slog.DiscardHandler)),
		modules.Daemon(cfg),
		fx.Populate(&n.conn, &n.nats),
	)
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	if err := n.app.Start(ctx); err != nil {
		t.Fatalf("starting daemon: %v", err)
	}
	t.Cleanup(func() { n.stop(t) })
	n.nc = dial(t, n.nats.ClientURL)
	return n
}

// stop stops the daemon; it may be called more than once.
func (n *node) stop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := n.app.Stop(ctx); err != nil {
		t.Errorf("stopping daemon: %v", err)
	}
}

// id is the node's ID as a header value.
func (n *node) id() string { return n.conn.NodeID().String() }

// endpoint is the node's QUIC address as a header value.
func (n *node) endpoint() string { return n.conn.Addr().String() }

// knows tells n where each peer is, as --peer does.
func (n *node) knows(peers ...*node) {
	for _, p := range peers {
		n.conn.AddAddress(p.conn.NodeID(), p.endpoint())
	}
}

func dial(t *testing.T, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connecting to NATS at %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// to addresses peers by node ID only.
func to(peers ...*node) nats.Header {
	h := nats.Header{}
	for _, p := range peers {
		h.Add(bridge.HeaderNode, p.id())
	}
	return h
}

// with returns h with key set to value.
func with(h nats.Header, key, value string) nats.Header {
	out := nats.Header{}
	for k, v := range h {
		out[k] = append([]string(nil), v...)
	}
	out.Set(key, value)
	return out
}

// request makes a NATS request and fails the test if NATS itself fails.
func request(t *testing.T, nc *nats.Conn, subject string, h nats.Header, data []byte) *nats.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	m, err := nc.RequestMsgWithContext(ctx, &nats.Msg{Subject: subject, Header: h, Data: data})
	if err != nil {
		t.Fatalf("request on %s: %v", subject, err)
	}
	return m
}

// errCode is a reply's NATS micro error code, "" if it is no error.
func errCode(m *nats.Msg) string { return m.Header.Get(bridge.HeaderErrorCode) }

// mustOK fails the test if m is an error reply.
func mustOK(t *testing.T, m *nats.Msg) {
	t.Helper()
	if code := errCode(m); code != "" {
		t.Fatalf("error reply %s: %s", code, m.Header.Get(bridge.HeaderError))
	}
}

// serve answers requests on subject with answer until the test ends.
func serve(t *testing.T, nc *nats.Conn, subject string, answer func(*nats.Msg) *nats.Msg) {
	t.Helper()
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		if err := m.RespondMsg(answer(m)); err != nil {
			t.Errorf("responding on %s: %v", subject, err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

// echo answers every request on subject with its own payload and headers.
func echo(t *testing.T, nc *nats.Conn, subject string) {
	serve(t, nc, subject, func(m *nats.Msg) *nats.Msg {
		return &nats.Msg{Header: m.Header, Data: m.Data}
	})
}

// subscribe returns a channel of the messages on subject.
func subscribe(t *testing.T, nc *nats.Conn, subject string) <-chan *nats.Msg {
	t.Helper()
	ch := make(chan *nats.Msg, 1024)
	sub, err := nc.ChanSubscribe(subject, ch)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return ch
}

// next waits for the next message on ch.
func next(t *testing.T, ch <-chan *nats.Msg) *nats.Msg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(wait):
		t.Fatal("no message within", wait)
		return nil
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runNATS runs a plain nats-server on port, as an external NATS.
func runNATS(t *testing.T, port int) *server.Server {
	t.Helper()
	return runNATSWith(t, func(o *server.Options) { o.Port = port })
}

// runNATSWith runs a nats-server on a free loopback port, as an external
// NATS, with its options changed by configure.
func runNATSWith(t *testing.T, configure func(*server.Options)) *server.Server {
	t.Helper()
	o := &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true}
	configure(o)
	port := o.Port
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(wait) {
		s.Shutdown()
		t.Fatalf("nats-server on port %d not ready", port)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// deadEndpoint is a loopback UDP address where nothing listens.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

func itoa(i int) string { return strconv.Itoa(i) }

func natsURL(port int) string { return fmt.Sprintf("nats://127.0.0.1:%d", port) }
