package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// ListenUDPFunc binds a UDP socket, as net.ListenUDP does; tests pass one
// that binds inside a network namespace.
type ListenUDPFunc func(addr netip.AddrPort) (*net.UDPConn, error)

// tcpServer is a gateway's TCP relay: it accepts relay WebSockets and
// hands each client's datagrams to the gateway's UDP socket from a
// loopback socket of the client's own, so the gateway serves it as a UDP
// client at that address.
type tcpServer struct {
	log    *slog.Logger
	tls    *tls.Config
	limits TCPLimits

	mu        sync.Mutex // guards listenUDP, closed, clients, next, servers, lns and addrs
	listenUDP ListenUDPFunc
	closed    bool
	clients   map[netip.AddrPort]*tcpSession // by loopback address
	next      uint32                         // loopback addresses handed out
	servers   []*http.Server
	lns       []*limitListener
	addrs     []string // the listeners' addresses

	wg sync.WaitGroup // serve loops and clients

	accepted, refused atomic.Uint64
}

// tcpSession is one relay WebSocket and its loopback socket.
type tcpSession struct {
	id     identity.NodeID
	from   netip.Addr // the client's real IP, which its QUIC connections count against
	ws     *websocket.Conn
	udp    *net.UDPConn
	target netip.AddrPort // the gateway's UDP address it talks to
	gone   func(netip.AddrPort)
}

func newTCPServer(id *identity.Identity, l TCPLimits, log *slog.Logger) *tcpServer {
	l.populate()
	listenUDP := func(a netip.AddrPort) (*net.UDPConn, error) {
		return net.ListenUDP("udp", net.UDPAddrFromAddrPort(a))
	}
	return &tcpServer{log: log, tls: wire.RelayServerTLS(id), limits: l, listenUDP: listenUDP, clients: make(map[netip.AddrPort]*tcpSession)}
}

func (s *tcpServer) setListenUDP(f ListenUDPFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listenUDP = f
}

// serve serves the relay on ln, for the gateway's UDP address target,
// until close. gone is told each client's loopback address once the
// client has gone, so the gateway can close its connections from there.
func (s *tcpServer) serve(ln net.Listener, target netip.AddrPort, gone func(netip.AddrPort)) error {
	ll := newLimitListener(ln, s.limits)
	srv := &http.Server{
		Handler:           s.handler(target, gone),
		ReadHeaderTimeout: wire.TCPHandshakeTimeout,
		IdleTimeout:       wire.TCPHandshakeTimeout,
		MaxHeaderBytes:    4 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		ln.Close()
		return net.ErrClosed
	}
	s.servers = append(s.servers, srv)
	s.lns = append(s.lns, ll)
	s.addrs = append(s.addrs, ln.Addr().String())
	tl := tls.NewListener(ll, s.tls)
	s.wg.Go(func() {
		// Serve returns ErrServerClosed once close shuts the server down;
		// anything else ended the listener early and the relay stopped
		// taking bridges on it.
		if err := srv.Serve(tl); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("TCP relay stopped accepting", "addr", ln.Addr().String(), "err", err)
		}
	})
	s.log.Info("TCP relay listening", "addr", ln.Addr().String(), "udp", target.String())
	return nil
}

func (s *tcpServer) handler(target netip.AddrPort, gone func(netip.AddrPort)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != wire.TCPRelayPath {
			http.NotFound(w, r)
			return
		}
		if r.TLS == nil {
			http.Error(w, "a client certificate is required", http.StatusForbidden)
			return
		}
		id, err := identity.PeerNodeID(*r.TLS)
		if err != nil {
			http.Error(w, "a client certificate is required", http.StatusForbidden)
			return
		}
		udp, err := s.loopbackSocket(target)
		if err != nil {
			s.log.Warn("TCP relay: no loopback socket", "err", err)
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			udp.Close()
			return
		}
		ws.SetReadLimit(wire.MaxTCPDatagram)
		from, _ := netip.ParseAddrPort(r.RemoteAddr)
		cl := &tcpSession{id: id, from: from.Addr().Unmap(), ws: ws, udp: udp, target: target, gone: gone}
		if !s.add(cl) {
			ws.CloseNow()
			udp.Close()
			return
		}
		defer s.wg.Done()
		s.run(cl)
	})
}

// add records cl and counts it in s.wg, unless the server is closing.
func (s *tcpServer) add(cl *tcpSession) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	s.clients[localAddrPort(cl.udp)] = cl
	s.accepted.Add(1)
	return true
}

func (s *tcpServer) remove(cl *tcpSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, localAddrPort(cl.udp))
}

// run carries cl's datagrams both ways until either side fails, the
// client idles for tcpIdleTimeout, or the server closes.
func (s *tcpServer) run(cl *tcpSession) {
	s.log.Debug("TCP relay client", "node", cl.id.Short(), "as", localAddrPort(cl.udp))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel()
		cl.fromGateway(ctx)
	}()
	cl.toGateway(ctx)
	cancel()
	addr := localAddrPort(cl.udp)
	cl.ws.CloseNow()
	cl.udp.Close()
	<-done
	s.remove(cl)
	if cl.gone != nil {
		cl.gone(addr)
	}
	s.log.Debug("TCP relay client gone", "node", cl.id.Short())
}

// toGateway sends every binary message to the gateway's UDP socket.
func (cl *tcpSession) toGateway(ctx context.Context) {
	buf := make([]byte, wire.MaxTCPDatagram+1) // one more byte shows a message too large
	to := net.UDPAddrFromAddrPort(cl.target)
	for {
		n, err := cl.readMessage(ctx, buf)
		if err != nil {
			return
		}
		if n > 0 {
			cl.udp.WriteTo(buf[:n], to)
		}
	}
}

// errTooLarge ends a client that sent a message over tcpMaxDatagram.
var errTooLarge = errors.New("gateway: TCP relay message too large")

// readMessage reads one message into buf; a non-binary one reads as empty.
func (cl *tcpSession) readMessage(ctx context.Context, buf []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, wire.TCPIdleTimeout)
	defer cancel()
	typ, r, err := cl.ws.Reader(ctx)
	if err != nil {
		return 0, err
	}
	n, err := io.ReadFull(r, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, err
	}
	if n > wire.MaxTCPDatagram {
		return 0, errTooLarge
	}
	if typ != websocket.MessageBinary {
		return 0, nil
	}
	return n, nil
}

// fromGateway sends the client what the gateway's socket sends its
// loopback socket, and nothing from anywhere else.
func (cl *tcpSession) fromGateway(ctx context.Context) {
	buf := make([]byte, wire.MaxTCPDatagram)
	for {
		n, from, err := cl.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if netip.AddrPortFrom(from.Addr().Unmap(), from.Port()) != cl.target {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, wire.TCPWriteTimeout)
		err = cl.ws.Write(wctx, websocket.MessageBinary, buf[:n])
		cancel()
		if err != nil {
			return
		}
	}
}

// loopbackSocket binds the socket a new client's datagrams come from: on
// its own loopback address where the system has 127.0.0.0/8 (Linux), so
// the gateway's per-address limits apply per client.
func (s *tcpServer) loopbackSocket(target netip.AddrPort) (*net.UDPConn, error) {
	s.mu.Lock()
	s.next++
	n, listen := s.next, s.listenUDP
	s.mu.Unlock()
	if target.Addr().Is6() {
		return listen(netip.AddrPortFrom(netip.IPv6Loopback(), 0))
	}
	src := netip.AddrFrom4([4]byte{127, byte(1 + (n>>16)%126), byte(n >> 8), byte(n)})
	u, err := listen(netip.AddrPortFrom(src, 0))
	if err != nil {
		return listen(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 0))
	}
	return u, nil
}

// sourceIP returns the real IP of the TCP relay client whose loopback
// address is addr, for the connector's per-IP limits (connector.Config's
// SourceIP).
func (s *tcpServer) sourceIP(addr netip.AddrPort) (netip.Addr, bool) {
	cl := s.client(addr)
	if cl == nil || !cl.from.IsValid() {
		return netip.Addr{}, false
	}
	return cl.from, true
}

// owns reports whether addr is a TCP relay client's loopback address.
func (s *tcpServer) owns(addr netip.AddrPort) bool { return s.client(addr) != nil }

// client returns the TCP relay client whose loopback address is addr, or
// nil.
func (s *tcpServer) client(addr netip.AddrPort) *tcpSession {
	if s == nil || !addr.Addr().IsLoopback() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[addr]
}

// stats returns the clients connected, accepted in all, and the TCP
// connections refused by the limits.
func (s *tcpServer) stats() (clients int, accepted, refused uint64) {
	if s == nil {
		return 0, 0, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	refused = s.refused.Load()
	for _, l := range s.lns {
		refused += l.refused.Load()
	}
	return len(s.clients), s.accepted.Load(), refused
}

// close stops serving, ends every client and waits for them.
func (s *tcpServer) close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	s.closed = true
	servers := s.servers
	for _, cl := range s.clients {
		cl.ws.CloseNow()
		cl.udp.Close()
	}
	s.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, srv.Close())
		}
		cancel()
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

// gatewayTarget is where a loopback socket sends: the gateway's address,
// or the loopback address on its port if it listens on all addresses.
func gatewayTarget(a netip.AddrPort) netip.AddrPort {
	ip := a.Addr().Unmap()
	if ip.IsUnspecified() {
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return netip.AddrPortFrom(ip, a.Port())
}

func localAddrPort(u *net.UDPConn) netip.AddrPort {
	ap := u.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
