package bridge

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait for an event in these tests.
const wait = 5 * time.Second

// node is one peerbridge node: a NATS server, a connector and a bridge.
type node struct {
	srv    *server.Server
	nc     *nats.Conn // the test's own client of the node's NATS
	conn   *connector.Connector
	bridge *Bridge
}

// startNATS runs a real NATS server on a random loopback port.
func startNATS(t testing.TB) *server.Server {
	t.Helper()
	return runNATS(t, &server.Options{})
}

// runNATS runs a real NATS server with opts on a random loopback port.
func runNATS(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", -1, true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	if !s.ReadyForConnections(wait) {
		t.Fatal("nats-server not ready")
	}
	return s
}

func dialNATS(t testing.TB, s *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// startNode starts a node on a NATS server of its own.
func startNode(t testing.TB, cfg Config) *node {
	t.Helper()
	return startNodeOn(t, startNATS(t), cfg)
}

// startNodeOn starts a node on the NATS server s, its hot path on
// connections of its own, as the daemon runs it on its embedded server.
func startNodeOn(t testing.TB, s *server.Server, cfg Config) *node {
	t.Helper()
	cfg.Dial = dialTCP(s)
	return startNodeWith(t, s, cfg)
}

// startNATSGoNode starts a node on the NATS server s, its hot path on
// nats.go, as the daemon runs it on an external NATS.
func startNATSGoNode(t testing.TB, s *server.Server, cfg Config) *node {
	t.Helper()
	cfg.Dial = nil
	return startNodeWith(t, s, cfg)
}

// dialTCP dials s over loopback TCP.
func dialTCP(s *server.Server) func(context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", s.Addr().String())
	}
}

func startNodeWith(t testing.TB, s *server.Server, cfg Config) *node {
	t.Helper()
	conn := startConnector(t)
	b, err := New(cfg, dialNATS(t, s), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetHandler(b)
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := b.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return &node{srv: s, nc: dialNATS(t, s), conn: conn, bridge: b}
}

func startConnector(t testing.TB) *connector.Connector {
	t.Helper()
	conn, err := connector.New(connector.Config{DialTimeout: time.Second}, newID(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func newID(t testing.TB) *identity.Identity {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (n *node) id() string       { return n.conn.NodeID().String() }
func (n *node) endpoint() string { return n.conn.Addr().String() }

// to addresses a message to peers, each by node ID and endpoint.
func to(peers ...*node) nats.Header {
	h := nats.Header{}
	for _, p := range peers {
		h.Add(HeaderNode, p.id())
		h.Add(HeaderEndpoint, p.endpoint())
	}
	return h
}

// with returns h plus key: value.
func with(h nats.Header, key, value string) nats.Header {
	h.Add(key, value)
	return h
}

// request sends a NATS request and fails the test if nothing answers.
func request(t testing.TB, nc *nats.Conn, subject string, h nats.Header, data []byte) *nats.Msg {
	t.Helper()
	m, err := nc.RequestMsg(&nats.Msg{Subject: subject, Header: h, Data: data}, wait)
	if err != nil {
		t.Fatalf("request on %s: %v", subject, err)
	}
	return m
}

// subscribe subscribes synchronously and returns once the server has the
// subscription.
func subscribe(t testing.TB, nc *nats.Conn, subject string) *nats.Subscription {
	t.Helper()
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	flush(t, nc)
	return sub
}

// serve answers requests on subject with f, and returns once the server has
// the subscription.
func serve(t testing.TB, nc *nats.Conn, subject string, f func(*nats.Msg) *nats.Msg) {
	t.Helper()
	_, err := nc.Subscribe(subject, func(m *nats.Msg) {
		if err := m.RespondMsg(f(m)); err != nil {
			t.Errorf("responding on %s: %v", subject, err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	flush(t, nc)
}

// echo answers with the request's payload and headers.
func echo(m *nats.Msg) *nats.Msg { return &nats.Msg{Header: m.Header, Data: m.Data} }

func flush(t testing.TB, nc *nats.Conn) {
	t.Helper()
	if err := nc.FlushTimeout(wait); err != nil {
		t.Fatal(err)
	}
}

func next(t testing.TB, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(wait)
	if err != nil {
		t.Fatalf("waiting on %s: %v", sub.Subject, err)
	}
	return m
}

// errCode returns a reply's Nats-Service-Error-Code, "" if it is none.
func errCode(m *nats.Msg) string { return m.Header.Get(HeaderErrorCode) }

// deadEndpoint returns a loopback UDP address nothing listens on.
func deadEndpoint(t testing.TB) string {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := c.LocalAddr().String()
	c.Close()
	return addr
}
