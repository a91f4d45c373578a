package gateway

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// Gateway is the rendezvous and relay server: bridges register with it,
// look each other up, have it time their hole punches, and relay through it
// when nothing else works. It relays opaque packets, so the peers' QUIC runs
// end to end and the gateway can neither read nor forge what they say.
type Gateway struct {
	cfg   Config
	id    *identity.Identity
	log   *slog.Logger
	conns []*connector.Connector
	muxes []*wire.Demux
	addrs []netip.AddrPort
	alts  []*net.UDPConn // filtering probes are answered from these; may be nil
	reg   *registry
	relay *relayTable
	rates gatewayRates
	tcp   *tcpServer // the TCP relay; serves once StartTCPOn gave it listeners
	fleet Fleet      // nil for a gateway on its own
	tok   *tokens    // probe answers' tokens, for bridges' other address family
	fs    fleetStats

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error // Close's result, for every call
}

// New returns a gateway with identity id. It does no I/O.
func New(cfg Config, id *identity.Identity, log *slog.Logger) (*Gateway, error) {
	cfg.populate()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tok, err := newTokens()
	if err != nil {
		return nil, err
	}
	return &Gateway{
		cfg: cfg, id: id, log: log, tok: tok,
		reg: newRegistry(cfg.Limits.MaxRegistrations, cfg.Limits.MaxRegistrationsPerIP), relay: newRelayTable(cfg.Relay), rates: newGatewayRates(cfg.Limits),
		tcp: newTCPServer(id, cfg.TCP, log),
	}, nil
}

// Start binds every listen address and starts serving. Beside each it
// binds a socket on the same IP and an ephemeral port, from which the
// gateway answers filtering probes (see StartOn), and, unless
// Config.ListenTCP says otherwise, the TCP relay on the same port
// number (for port 0, a number free for both).
func (g *Gateway) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("gateway: start: %w", err)
	}
	sameTCP := len(g.cfg.ListenTCP) == 0
	var udps, alts []*net.UDPConn
	var lns []net.Listener
	closeAll := func() {
		for _, u := range append(udps, alts...) {
			u.Close()
		}
		for _, ln := range lns {
			ln.Close()
		}
	}
	for _, a := range g.cfg.Listen {
		if err := ctx.Err(); err != nil {
			closeAll()
			return fmt.Errorf("gateway: start: %w", err)
		}
		u, alt, ln, err := listenSet(a, sameTCP)
		if err != nil {
			closeAll()
			return fmt.Errorf("gateway: gateway listen %s: %w", a, err)
		}
		udps, alts = append(udps, u), append(alts, alt)
		if ln != nil {
			lns = append(lns, ln)
		}
	}
	if err := g.StartOn(udps, alts...); err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return err
	}
	var err error
	if sameTCP {
		err = g.StartTCPOn(lns, nil)
	} else {
		err = g.listenTCP()
	}
	if err != nil {
		g.Close()
		return err
	}
	return nil
}

// StartOn serves on sockets the caller made; the gateway owns them. alts,
// if given, are one socket per element of udps, each on the same IP and
// another port: a filtering probe is answered from the other address's alt
// socket, an endpoint the prober's mapping test never sent to, so the answer
// tells its NAT's filtering without disturbing its mapping. Without alts
// filtering probes go unanswered and bridges report their filtering as
// dependent, the cautious answer.
func (g *Gateway) StartOn(udps []*net.UDPConn, alts ...*net.UDPConn) error {
	if len(alts) != 0 && len(alts) != len(udps) {
		for _, u := range append(udps, alts...) {
			u.Close()
		}
		return fmt.Errorf("gateway: gateway: %d probe sockets for %d listen sockets", len(alts), len(udps))
	}
	g.alts = alts
	g.ctx, g.cancel = context.WithCancel(context.Background())
	for i, u := range udps {
		cc := g.cfg.Conn
		cc.IdleTimeout, cc.ReverifyAfter = 10*time.Minute, -1
		cc.SourceIP = g.tcp.sourceIP // TCP relay clients count as their real IPs
		c, err := connector.New(cc, g.id, g.log)
		if err == nil {
			err = c.StartOn(u) // it closes u if it fails
		} else {
			u.Close()
		}
		if err != nil {
			for _, rest := range udps[i+1:] {
				rest.Close()
			}
			g.Close()
			return fmt.Errorf("gateway: gateway on %s: %w", u.LocalAddr(), err)
		}
		c.SetHandler(g.handler(i))
		c.SetEvents(g.onEvent(i))
		g.conns = append(g.conns, c)
		g.addrs = append(g.addrs, c.Addr())
		d := wire.NewDemux(g.log)
		d.OnProbe = g.probeServer(i)
		d.OnRelay = g.forward
		g.muxes = append(g.muxes, d)
	}
	for i, d := range g.muxes {
		g.conns[i].SetNonQUICHandler(d.Dispatch)
	}
	if g.fleet != nil {
		if err := g.fleet.Serve(g.serveFleet); err != nil {
			g.Close()
			return fmt.Errorf("gateway: joining the fleet: %w", err)
		}
	}
	g.wg.Go(g.expireRelays)
	g.wg.Go(g.sweepRegistrations)
	g.log.Info("gateway running", "node", g.id.NodeID().String(), "addrs", g.addrs)
	return nil
}

// Close stops the gateway and waits for it. Later calls return the first
// call's result.
func (g *Gateway) Close() error {
	g.closeOnce.Do(func() { g.closeErr = g.close() })
	return g.closeErr
}

func (g *Gateway) close() error {
	if g.cancel != nil {
		g.cancel()
	}
	errs := []error{g.tcp.close()}
	for _, c := range g.conns {
		errs = append(errs, c.Close())
	}
	g.wg.Wait()
	for _, u := range g.alts {
		errs = append(errs, u.Close())
	}
	return errors.Join(errs...)
}

// NodeID returns the gateway's node ID.
func (g *Gateway) NodeID() identity.NodeID { return g.id.NodeID() }

// Addrs returns the bound addresses, in the order of Config.Listen.
func (g *Gateway) Addrs() []netip.AddrPort { return append([]netip.AddrPort(nil), g.addrs...) }

// RelayStats returns how many relay sessions exist and how many packets
// were forwarded and dropped.
func (g *Gateway) RelayStats() (sessions int, forwarded, dropped uint64) { return g.relay.stats() }

// onEvent follows the bridges' connections to listen address i: a
// bridge's registration ends with its last connection there, so a record
// lives no longer than the bridge that made it stays connected.
func (g *Gateway) onEvent(i int) func(connector.Event) {
	return func(e connector.Event) {
		if e.Kind != connector.EventClosed {
			return
		}
		if _, live := g.conns[i].PathTo(e.Node); live {
			return // it has another connection here
		}
		if g.reg.drop(e.Node, i, e.Remote) {
			g.log.Debug("registration ended with its connection", "node", e.Node.Short())
		}
	}
}

// other returns the index of another listen address than i, or -1.
func (g *Gateway) other(i int) int {
	for j, a := range g.addrs {
		if j != i && a.Addr() != g.addrs[i].Addr() && !a.Addr().IsUnspecified() {
			return j
		}
	}
	for j := range g.addrs {
		if j != i {
			return j
		}
	}
	return -1
}

// probeServer answers probes arriving on listen address i: to the sender's
// address only, never larger than the probe. A probe asking for a change is
// answered from the other address's alt socket, or not at all without one.
func (g *Gateway) probeServer(i int) func(netip.AddrPort, wire.Probe) {
	return func(from netip.AddrPort, p wire.Probe) {
		o := g.otherFor(i, from)
		resp := wire.ProbeResponse{Txn: p.Txn, Observed: from}
		if o >= 0 {
			resp.Other = g.addrs[o]
		}
		if p.Flags&wire.ProbeFlagToken != 0 { // ipv6: proof for the bridge's other family
			resp.Token = g.tok.mint(from, time.Now())
		}
		b := resp.Append(make([]byte, 0, wire.ProbeResponseTokenSize))
		to := net.UDPAddrFromAddrPort(from)
		if p.Flags&wire.ProbeFlagChange == 0 {
			g.conns[i].Transport().WriteTo(b, to)
		} else if o >= 0 && len(g.alts) > o {
			g.alts[o].WriteTo(b, to)
		}
	}
}

// expireRelays closes idle relay sessions every quarter of their idle
// timeout until the gateway closes.
func (g *Gateway) expireRelays() {
	g.every(g.cfg.RelayIdleTimeout/4, func(now time.Time) {
		if n := g.relay.expire(now, g.cfg.RelayIdleTimeout); n > 0 {
			g.log.Info("idle relay sessions closed", "sessions", n)
		}
	})
}

// sweepRegistrations deletes expired registrations every quarter of the
// TTL until the gateway closes.
func (g *Gateway) sweepRegistrations() {
	g.every(g.cfg.RegistrationTTL/4, func(now time.Time) {
		if n := g.reg.sweep(now); n > 0 {
			g.log.Debug("expired registrations swept", "records", n)
		}
	})
}

// every calls f every period (at least a millisecond) until the gateway
// closes.
func (g *Gateway) every(period time.Duration, f func(now time.Time)) {
	t := time.NewTicker(max(period, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case now := <-t.C:
			f(now)
		}
	}
}

// newSessionID makes a random relay session ID.
func newSessionID() (wire.SessionID, error) {
	var s wire.SessionID
	_, err := rand.Read(s[:])
	return s, err
}
