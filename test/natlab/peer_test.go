package natlab_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/test/natlab"
)

const (
	// gatewayPort is the UDP port the gateway listens on, on both addresses.
	gatewayPort = 7443
	// startWait bounds starting a gateway or peer, registration included.
	startWait = 20 * time.Second
	// echoType is the request type the peers serve.
	echoType = "echo"
)

// testLog returns a logger for lab components: silent unless
// PEERBRIDGE_NATLAB_LOG is set, then debug-level text on stderr.
func testLog(name string) *slog.Logger {
	if os.Getenv("PEERBRIDGE_NATLAB_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(h).With("node", name)
}

// startGateway runs a gateway on host, on gatewayPort of each of its
// addresses, UDP and TCP, until the test ends.
func startGateway(t *testing.T, host *natlab.Host) *gateway.Gateway {
	t.Helper()
	return startGatewayWith(t, host, nil)
}

// startGatewayWith is startGateway with join, if not nil, called on the
// gateway before it starts (to make it one of a fleet's).
func startGatewayWith(t *testing.T, host *natlab.Host, join func(*gateway.Gateway)) *gateway.Gateway {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	var listen []string
	var udps, alts []*net.UDPConn
	for _, a := range host.Addrs() {
		ap := netip.AddrPortFrom(a, gatewayPort)
		u, err := host.ListenUDP(ap)
		if err != nil {
			t.Fatal(err)
		}
		alt, err := host.ListenUDP(netip.AddrPortFrom(a, 0))
		if err != nil {
			t.Fatal(err)
		}
		listen = append(listen, ap.String())
		udps, alts = append(udps, u), append(alts, alt)
	}
	g, err := gateway.New(gateway.Config{Listen: listen}, id, testLog("gateway"))
	if err != nil {
		t.Fatal(err)
	}
	if join != nil {
		join(g)
	}
	if err := g.StartOn(udps, alts...); err != nil {
		t.Fatal(err)
	}
	// The TCP relay, on the same port numbers as UDP.
	var lns []net.Listener
	for _, a := range host.Addrs() {
		ln, err := host.ListenTCP(netip.AddrPortFrom(a, gatewayPort))
		if err != nil {
			g.Close()
			t.Fatal(err)
		}
		lns = append(lns, ln)
	}
	if err := g.StartTCPOn(lns, host.ListenUDP); err != nil {
		g.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Errorf("closing gateway: %v", err)
		}
	})
	return g
}

// peer is one whole peerbridge node inside a lab host: an in-process NATS
// server with no listener, a connector on a socket in the host's
// namespace, NAT traversal through the lab's gateway, and a bridge. Its
// NATS serves echo requests on peer.recv.echo.
type peer struct {
	name string
	host *natlab.Host
	srv  *server.Server
	nc   *nats.Conn // the test's client of the peer's NATS
	conn *connector.Connector
	cl   *natpunch.Client
	br   *bridge.Bridge
}

// peerConfig is the NAT traversal configuration of lab peers: the defaults,
// but registrations refreshed and upgrades retried often enough for a test.
func peerConfig(g *gateway.Gateway) natpunch.ClientConfig {
	return natpunch.ClientConfig{
		Gateways:      []connector.Target{{NodeID: g.NodeID(), Endpoint: g.Addrs()[0].String()}},
		RegisterEvery: 2 * time.Second,
		UpgradeMin:    500 * time.Millisecond,
		UpgradeMax:    3 * time.Second,
	}
}

// newPeer makes a peer on host without starting it. It does no I/O. All
// its fields but srv and nc are set by start.
func newPeer(name string, host *natlab.Host) *peer {
	return &peer{name: name, host: host}
}

// start starts the peer and waits for its first registration with the
// gateway; it returns an error rather than failing the test, so that it can
// run on any goroutine. Whatever started is stopped by stop.
func (p *peer) start(ctx context.Context, cfg natpunch.ClientConfig) error {
	log := testLog(p.name)
	if err := p.startNATS(); err != nil {
		return err
	}
	id, err := identity.Generate()
	if err != nil {
		return err
	}
	if p.conn, err = connector.New(connector.Config{}, id, log); err != nil {
		return err
	}
	udp, err := p.listenUDP() // ipv6: dual-stack where the host has IPv6
	if err != nil {
		p.conn = nil
		return err
	}
	if err := p.conn.StartOn(udp); err != nil {
		p.conn = nil
		return err
	}
	// The bridge runs in this process, its socket in the host's namespace:
	// its subnets are the host's LAN, not this process's interfaces.
	cfg.LocalSubnets = p.host.Subnets
	if p.cl, err = natpunch.NewClient(p.conn, cfg, log); err != nil {
		return err
	}
	if p.br, err = bridge.New(bridge.Config{}, p.nc, p.conn, log); err != nil {
		return err
	}
	p.conn.SetHandler(p.cl.Handler(p.br))
	if err := p.cl.Start(ctx); err != nil {
		p.cl = nil
		return err
	}
	if err := p.br.Start(ctx); err != nil {
		p.br = nil
		return err
	}
	if err := p.serveEcho(); err != nil {
		return err
	}
	return p.cl.Registered(ctx)
}

// startNATS runs the peer's NATS server in-process, without a listener,
// and connects the test's client to it.
func (p *peer) startNATS() error {
	srv, err := server.NewServer(&server.Options{DontListen: true, NoLog: true, NoSigs: true})
	if err != nil {
		return fmt.Errorf("%s: nats-server: %w", p.name, err)
	}
	srv.Start()
	p.srv = srv
	if !srv.ReadyForConnections(startWait) {
		return fmt.Errorf("%s: nats-server not ready", p.name)
	}
	if p.nc, err = nats.Connect("", nats.InProcessServer(srv)); err != nil {
		return fmt.Errorf("%s: connecting to nats-server: %w", p.name, err)
	}
	return nil
}

// serveEcho answers requests on peer.recv.echo with "<name>:<data>".
func (p *peer) serveEcho() error {
	_, err := p.nc.Subscribe("peer.recv."+echoType, func(m *nats.Msg) {
		m.Respond(append([]byte(p.name+":"), m.Data...))
	})
	if err != nil {
		return fmt.Errorf("%s: subscribing: %w", p.name, err)
	}
	return p.nc.Flush()
}

// stop stops whatever start started, newest first.
func (p *peer) stop(t *testing.T) {
	if p.br != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := p.br.Stop(ctx); err != nil {
			t.Errorf("%s: %v", p.name, err)
		}
		cancel()
	}
	if p.cl != nil {
		if err := p.cl.Close(); err != nil {
			t.Errorf("%s: closing NAT traversal: %v", p.name, err)
		}
	}
	if p.conn != nil {
		p.conn.Close()
	}
	if p.nc != nil {
		p.nc.Close()
	}
	if p.srv != nil {
		p.srv.Shutdown()
		p.srv.WaitForShutdown()
	}
}

// startPeer starts a peer on host and stops it when the test ends.
func startPeer(t *testing.T, name string, host *natlab.Host, cfg natpunch.ClientConfig) *peer {
	t.Helper()
	p := newPeer(name, host)
	t.Cleanup(func() { p.stop(t) })
	ctx, cancel := context.WithTimeout(context.Background(), startWait)
	defer cancel()
	if err := p.start(ctx, cfg); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	return p
}

// answer is what a bridge said to one request.
type answer struct {
	path string // Peer-Path
	conn string // Peer-Conn
	took time.Duration
}

// ask sends a NATS request for to's echo service through p's bridge, naming
// the target by node ID only, and checks the echo.
func (p *peer) ask(ctx context.Context, to *peer, data string) (answer, error) {
	m := nats.NewMsg("peer.request." + echoType)
	m.Header.Set(bridge.HeaderNode, to.conn.NodeID().String())
	m.Data = []byte(data)
	if d, ok := ctx.Deadline(); ok {
		m.Header.Set(bridge.HeaderTimeout, time.Until(d).String())
	}
	start := time.Now()
	r, err := p.nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		return answer{}, fmt.Errorf("%s to %s: %w", p.name, to.name, err)
	}
	a := answer{path: r.Header.Get(bridge.HeaderPath), conn: r.Header.Get(bridge.HeaderConn), took: time.Since(start)}
	if code := r.Header.Get(bridge.HeaderErrorCode); code != "" {
		return a, fmt.Errorf("%s to %s: error %s: %s", p.name, to.name, code, r.Header.Get(bridge.HeaderError))
	}
	if want := to.name + ":" + data; string(r.Data) != want {
		return a, fmt.Errorf("%s to %s: answer %q, want %q", p.name, to.name, r.Data, want)
	}
	return a, nil
}
