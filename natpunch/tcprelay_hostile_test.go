package natpunch

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// connectProxy is an HTTP proxy that serves only CONNECT, as corporate
// proxies in front of port 443 do.
type connectProxy struct {
	srv      *http.Server
	ln       net.Listener
	mu       sync.Mutex // guards tunnels and conns
	tunnels  []string
	conns    []net.Conn
	wg       sync.WaitGroup
	requests atomic.Int64
}

func startConnectProxy(t *testing.T) *connectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{ln: ln}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 5 * time.Second}
	p.wg.Go(func() { p.srv.Serve(ln) })
	t.Cleanup(func() {
		p.srv.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *connectProxy) serve(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	up, err := net.DialTimeout("tcp", r.Host, 5*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	down, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		return
	}
	p.mu.Lock()
	p.tunnels = append(p.tunnels, r.Host)
	p.conns = append(p.conns, up, down)
	p.mu.Unlock()
	io.WriteString(down, "HTTP/1.1 200 Connection established\r\n\r\n")
	for _, pair := range [][2]net.Conn{{up, down}, {down, up}} {
		p.wg.Go(func() {
			io.Copy(pair[0], pair[1])
			pair[0].Close()
			pair[1].Close()
		})
	}
}

// TestTCPRelayThroughConnectProxy reaches the TCP relay through an HTTP
// proxy's CONNECT tunnel, and a peer through it.
func TestTCPRelayThroughConnectProxy(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{})
	a, _ := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g)}, Trace: nil}, natpunchtest.Echo())
	proxy := startConnectProxy(t)
	hole := natpunchtest.BlackHole(t)
	b, clb := startBridgeServing(t, ClientConfig{
		Gateways: []connector.Target{{NodeID: g.NodeID(), Endpoint: hole.LocalAddr().String()}},
		TCPRelay: g.Addrs()[0].String(),
		Proxy:    http.ProxyURL(&url.URL{Scheme: "http", Host: proxy.ln.Addr().String()}),
	}, natpunchtest.Echo())
	if !clb.OnTCP() {
		t.Fatal("bridge not on the TCP relay")
	}
	proxy.mu.Lock()
	tunnels := append([]string(nil), proxy.tunnels...)
	proxy.mu.Unlock()
	if len(tunnels) != 1 || tunnels[0] != g.Addrs()[0].String() {
		t.Fatalf("proxy tunnels %v, want one to %s", tunnels, g.Addrs()[0])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := b.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: a.NodeID()}, Type: "echo", Payload: []byte("via proxy")})
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Payload) != "via proxy" || r.Path != connector.PathRelayed {
		t.Fatalf("reply %+v", r)
	}
}

// TestTCPRelayWantsTheGatewaysKey fails a bridge that expects another
// node ID at the gateway's address: the TLS certificate is the gateway's
// identity.
func TestTCPRelayWantsTheGatewaysKey(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{})
	me, other := natpunchtest.Identity(t), natpunchtest.Identity(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := dialRelay(ctx, g.Addrs()[0].String(), me, other.NodeID(), nil, nil); err == nil {
		t.Fatal("dialled a gateway that is not the node asked for")
	}
	ws, err := dialRelay(ctx, g.Addrs()[0].String(), me, g.NodeID(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.CloseNow()
}

// TestTCPRelayRefusesStrangers refuses a client without a certificate: no
// upgrade, no loopback socket.
func TestTCPRelayRefusesStrangers(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{})
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, NextProtos: []string{wire.TCPALPN}}}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "wss://"+g.Addrs()[0].String()+wire.TCPRelayPath, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err == nil {
		ws.CloseNow()
		t.Fatal("a client without a certificate was upgraded")
	}
	if clients, accepted, _ := g.TCPStats(); clients != 0 || accepted != 0 {
		t.Fatalf("%d clients, %d accepted; want none", clients, accepted)
	}
}

// TestTCPRelayBoundsConnsPerIP closes TCP connections past the per-IP
// bound at once, before any TLS, and keeps the others.
func TestTCPRelayBoundsConnsPerIP(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{TCP: gateway.TCPLimits{MaxConnsPerIP: 2}})
	addr := g.Addrs()[0].String()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		timedOut := errors.As(err, &ne) && ne.Timeout()
		if want := i < 2; timedOut != want {
			t.Errorf("connection %d: read %v; want it kept open: %v", i, err, want)
		}
	}
	if _, _, refused := g.TCPStats(); refused != 1 {
		t.Fatalf("%d refused, want 1", refused)
	}
}

// TestTCPRelayClosesOnOversizedMessage ends a client that sends a message
// past the datagram bound, and frees its place.
func TestTCPRelayClosesOnOversizedMessage(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, err := dialRelay(ctx, g.Addrs()[0].String(), natpunchtest.Identity(t), g.NodeID(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if !natpunchtest.WaitUntil(ctx, func() bool { c, _, _ := g.TCPStats(); return c == 1 }) {
		t.Fatal("client never counted")
	}
	if err := ws.Write(ctx, websocket.MessageBinary, make([]byte, wire.MaxTCPDatagram+1)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Read(ctx); err == nil {
		t.Fatal("the gateway answered an oversized message")
	}
	if !natpunchtest.WaitUntil(ctx, func() bool { c, _, _ := g.TCPStats(); return c == 0 }) {
		t.Fatal("the client's place was not freed")
	}
}

// TestTCPRelayClientKeepsRelayLimits bounds a bridge on the TCP relay to
// one relay session, as it would a bridge on UDP: a second peer is refused.
func TestTCPRelayClientKeepsRelayLimits(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{Relay: gateway.RelayLimits{MaxSessionsPerClient: 1}})
	a, _ := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g)}, Trace: nil}, natpunchtest.Echo())
	c, _ := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(g)}, Trace: nil}, natpunchtest.Echo())
	b, _ := startBridgeServing(t, ClientConfig{
		Gateways: []connector.Target{{NodeID: g.NodeID(), Endpoint: natpunchtest.BlackHole(t).LocalAddr().String()}},
		TCPRelay: g.Addrs()[0].String(),
	}, natpunchtest.Echo())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: b.NodeID()}, Type: "echo"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: b.NodeID()}, Type: "echo"}); err == nil {
		t.Fatal("a second relay session with the TCP client was allowed")
	}
	if s := g.Stats(); s.RelaySessions != 1 || s.RelaySessionsRefused == 0 {
		t.Fatalf("%d sessions, %d refused; want 1 and some", s.RelaySessions, s.RelaySessionsRefused)
	}
}

// TestTCPRelayClientsCountAsTheirIP is issue 18, row 2: one IP opened 16
// WebSockets to the TCP relay and then dialled QUIC through each, and took
// 1,998 of the gateway's 2,000 QUIC connections, because every TCP relay
// client reached the gateway's connector from a loopback address of its
// own. The QUIC per-IP bound now counts the client's real IP, so 3
// WebSockets with 5 dials each get MaxConnsPerIP connections between them,
// and a dial from another IP still gets in.
func TestTCPRelayClientsCountAsTheirIP(t *testing.T) {
	const perIP = 6
	g := natpunchtest.StartGateway(t, gateway.Config{Conn: connector.Config{MaxConnsPerIP: perIP}})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	gwAddr := net.UDPAddrFromAddrPort(g.Addrs()[0])
	established := 0
	for range 3 {
		ws, err := dialRelay(ctx, g.Addrs()[0].String(), natpunchtest.Identity(t), g.NodeID(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		pc := newWSPacketConn(ws, gwAddr, nil)
		tr := &quic.Transport{Conn: pc}
		t.Cleanup(func() { tr.Close(); pc.Close() })
		for range 5 {
			dctx, dcancel := context.WithTimeout(ctx, 3*time.Second)
			qc, err := tr.Dial(dctx, gwAddr, natpunchtest.Identity(t).ClientTLS(g.NodeID(), nil), &quic.Config{})
			dcancel()
			if err == nil {
				established++
				t.Cleanup(func() { qc.CloseWithError(0, "") })
			}
		}
	}
	if established != perIP {
		t.Errorf("%d QUIC connections through the TCP relay from one IP, want %d (MaxConnsPerIP)", established, perIP)
	}
	// Another IP is not held back by the first one's connections.
	u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	tr := &quic.Transport{Conn: u}
	defer tr.Close()
	qc, err := tr.Dial(ctx, gwAddr, natpunchtest.Identity(t).ClientTLS(g.NodeID(), nil), &quic.Config{})
	if err != nil {
		t.Fatalf("a dial from another IP was refused: %v", err)
	}
	qc.CloseWithError(0, "")
}
