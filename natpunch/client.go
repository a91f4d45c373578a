package natpunch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// Event is one step of NAT traversal toward a peer.
type Event struct {
	Peer identity.NodeID
	// Step is "direct", "punch", "relay" or "upgrade".
	Step string
	Err  error
}

// Client is a bridge's side of NAT traversal: it registers with gateways,
// probes its NAT, and routes sends to peers that have no pooled connection:
// direct dial, then a coordinated hole punch, then the relay.
type Client struct {
	c        Connector
	cfg      ClientConfig
	log      *slog.Logger
	d        *wire.Demux
	relay    *relayConn
	relayTr  *quic.Transport
	gateways []gatewayRef
	punches  *punchGate
	grants   *ratelimit.KeyLimiter[identity.NodeID] // relay sessions peers ask for, per peer and in all
	sent     punchCounters
	heard    heard    // punches waiting for their peer's first packet
	tcp      tcpState // the TCP relay, when UDP gets no answer
	pm       portMap  // the router's port mapping, with PortMap set

	mu         sync.Mutex // guards the fields below
	report     *Report
	registered chan struct{} // closed at the first successful registration
	firstRound chan struct{} // closed when the first round of registrations has been answered
	upgrading  map[identity.NodeID]bool

	// ctx is the client's lifetime, set by Start and cancelled by Close.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	goMu   sync.Mutex // guards ctx and cancel; orders goOwned's starts before Close's cancel

	closeOnce sync.Once
	closeErr  error // Close's result, for every call
}

// NewClient returns NAT traversal for connector c. It does no I/O.
func NewClient(c Connector, cfg ClientConfig, log *slog.Logger) (*Client, error) {
	cfg.populate()
	if err := cfg.validate(c.QUICConfig().KeepAlivePeriod); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cl := &Client{
		c: c, cfg: cfg, log: log, registered: make(chan struct{}), firstRound: make(chan struct{}), upgrading: make(map[identity.NodeID]bool),
		punches: newPunchGate(cfg),
		grants:  ratelimit.NewKeyLimiter[identity.NodeID](cfg.RelayGrants, cfg.AllRelayGrants.Limiter(), MaxRateKeys),
	}
	cl.relay = newRelayConn(cl.writeTo, cfg.MaxRelaySessionsPerPeer, cfg.MaxRelaySessions)
	cl.pm.init()
	if err := checkPortMap(cfg.PortMap); err != nil { // portmap
		return nil, err
	}
	for _, t := range cfg.Gateways {
		if t.NodeID == "" || t.Endpoint == "" {
			return nil, fmt.Errorf("natpunch: gateway %q needs NODEID@host:port", t)
		}
		addrs, name, err := cl.resolveEndpoint(context.Background(), t.Endpoint)
		if err != nil {
			return nil, err
		}
		reach := &gatewayReach{name: name}
		reach.addrs.Store(&addrs)
		cl.gateways = append(cl.gateways, gatewayRef{target: t, addr: addrs[0], health: new(gatewayHealth), reach: reach})
	}
	return cl, nil
}

// Start takes over the connector's non-QUIC packets, starts the relay
// transport, installs the client as the connector's router, and starts
// probing and registering with the gateways in the background. Call it
// after the connector has started.
func (cl *Client) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("natpunch: start: %w", err)
	}
	// ctx bounds the start; the client lives on until Close, keeping only
	// ctx's values.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cl.goMu.Lock()
	cl.ctx, cl.cancel = ctx, cancel
	cl.goMu.Unlock()
	if err := cl.startPortMap(); err != nil { // portmap: before registerLoop reads it
		return err
	}
	cl.d = wire.NewDemux(cl.log)
	cl.d.OnPunch = cl.heard.punchFrom
	cl.d.OnRelay = func(from netip.AddrPort, s wire.SessionID, pkt []byte) {
		if !cl.relay.deliver(from, s, pkt[wire.RelayOverhead:]) {
			cl.d.Dropped.Add(1)
		}
	}
	cl.relayTr = &quic.Transport{Conn: cl.relay}
	ln, err := cl.relayTr.Listen(cl.c.Identity().ServerTLS(), cl.c.QUICConfig())
	if err != nil {
		return errors.Join(fmt.Errorf("natpunch: relay listener: %w", err), cl.closePortMap())
	}
	cl.wg.Go(func() { cl.acceptRelayed(ln) })
	cl.wg.Go(cl.expireRelays)
	if len(cl.gateways) > 0 {
		cl.wg.Go(cl.registerLoop)
	}
	cl.c.SetRouter(cl)
	cl.c.SetNonQUICHandler(cl.d.Dispatch)
	return nil
}

// Close stops the client and waits for its goroutines. Close the
// connector after it.
func (cl *Client) Close() error {
	cl.closeOnce.Do(func() { cl.closeErr = cl.close() })
	return cl.closeErr
}

func (cl *Client) close() error {
	cl.goMu.Lock()
	cancel := cl.cancel
	if cancel != nil {
		cancel()
	}
	cl.goMu.Unlock()
	if cancel == nil {
		return nil
	}
	cl.c.SetNonQUICHandler(nil)
	err := cl.relayTr.Close()
	cl.relay.Close()
	cl.wg.Wait()
	cl.closeTCP()
	return errors.Join(err, cl.closePortMap()) // portmap
}

// goOwned runs f on a goroutine that Close waits for, and reports false,
// without running f, before Start or once the client is closing.
func (cl *Client) goOwned(f func()) bool {
	cl.goMu.Lock()
	defer cl.goMu.Unlock()
	if cl.ctx == nil || cl.ctx.Err() != nil {
		return false
	}
	cl.wg.Go(f)
	return true
}

func (cl *Client) writeTo(b []byte, to netip.AddrPort) error {
	if sent, err := cl.tcpWrite(b, to); sent { // tcprelay
		return err
	}
	_, err := cl.c.Transport().WriteTo(b, net.UDPAddrFromAddrPort(to))
	return err
}

func (cl *Client) acceptRelayed(ln *quic.Listener) {
	defer ln.Close()
	for {
		qc, err := ln.Accept(cl.ctx)
		if err != nil {
			return
		}
		if err := cl.c.Adopt(qc, connector.PathRelayed); err != nil {
			cl.log.Warn("relayed connection rejected", "err", err)
		}
	}
}

// expireRelays ends idle relay sessions until the client closes.
func (cl *Client) expireRelays() {
	t := time.NewTicker(max(cl.cfg.RelayIdleTimeout/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-cl.ctx.Done():
			return
		case now := <-t.C:
			if n := cl.relay.expire(now, cl.cfg.RelayIdleTimeout); n > 0 {
				cl.log.Debug("idle relay sessions ended", "sessions", n)
			}
		}
	}
}

// RelayStats returns the bridge's relay session counters.
func (cl *Client) RelayStats() RelayStats { return cl.relay.stats() }

// Registered waits until the first registration with a gateway succeeded.
func (cl *Client) Registered(ctx context.Context) error {
	select {
	case <-cl.registered:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("natpunch: not registered with a gateway: %w", ctx.Err())
	}
}

// Report returns the last NAT probe's report, or nil before the first.
func (cl *Client) Report() *Report {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.report
}

func (cl *Client) trace(peer identity.NodeID, step string, err error) {
	if cl.cfg.Trace != nil {
		cl.cfg.Trace(Event{Peer: peer, Step: step, Err: err})
	}
	cl.log.Debug("traversal step", "peer", peer.Short(), "step", step, "err", err)
}

// Probe probes this host's NAT against gateway gw from the connector's
// socket.
func (cl *Client) Probe(ctx context.Context, gw netip.AddrPort) (*Report, error) {
	return cl.prober().run(ctx, gw, cl.c.Addr())
}

func (cl *Client) prober() *prober {
	return &prober{d: cl.d, write: cl.writeTo, tries: 3, wait: 400 * time.Millisecond}
}

// registerLoop registers with every gateway and refreshes the
// registrations, re-probing the NAT first each time, until the client
// closes.
func (cl *Client) registerLoop() {
	var once, round sync.Once
	t := time.NewTicker(cl.cfg.RegisterEvery)
	defer t.Stop()
	for {
		cl.reresolve(cl.ctx) // ipv6: every address of the gateways' names
		ok, answered := cl.registerAll(cl.refreshReport())
		if ok && cl.followAll() { // ipv6: probed at another address than the control connection runs to
			ok, answered = cl.registerAll(cl.refreshReport())
		}
		if ok || (!answered && cl.fallBackToTCP()) { // tcprelay: fallBackToTCP
			once.Do(func() { close(cl.registered) })
		}
		round.Do(func() { close(cl.firstRound) })
		select {
		case <-cl.ctx.Done():
			return
		case <-t.C:
		case <-cl.pm.changed: // portmap: tell the gateways at once
		}
	}
}

// refreshReport returns the NAT report to register with. The NAT is probed
// fully the first time and whenever one probe shows a new public address:
// the NAT forgot its mappings (a timeout, a restart, another network) and
// may behave differently now. A full probe is not repeated otherwise,
// because this socket has since sent to the gateway's other address, which
// would make the filtering test pass on any NAT.
func (cl *Client) refreshReport() (*Report, int) {
	ctx, cancel := context.WithTimeout(cl.ctx, 10*time.Second)
	defer cancel()
	last := cl.Report()
	var errs []error
	for _, gw := range cl.liveGateways() {
		i := slices.IndexFunc(cl.gateways, func(g gatewayRef) bool { return g.target == gw.target })
		if last != nil && last.Public != "" && last.Gateway == gw.at().String() {
			r, _, err := cl.prober().ask(ctx, gw.at(), 0)
			if err != nil {
				// No answer says nothing of the NAT: a full probe would
				// only spoil the filtering test (see above).
				errs = append(errs, err)
				continue
			}
			if r.Observed.String() == last.Public {
				return last, i
			}
			cl.log.Info("public address changed", "from", last.Public, "to", r.Observed.String())
		}
		report, err := cl.Probe(ctx, gw.at())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cl.log.Info("NAT probed", "gateway", gw.target.String(), "type", report.NATType, "public", report.Public, "mapping", report.Mapping, "filtering", report.Filtering)
		cl.mu.Lock()
		cl.report = report
		cl.mu.Unlock()
		return report, i
	}
	cl.log.Warn("NAT probe failed", "err", errors.Join(errs...))
	if last != nil {
		return last, slices.IndexFunc(cl.gateways, func(g gatewayRef) bool { return g.at().String() == last.Gateway })
	}
	report := &Report{Mapping: wire.Unknown, Filtering: wire.Unknown, NATType: wire.Unknown}
	cl.mu.Lock()
	cl.report = report
	cl.mu.Unlock()
	return report, -1
}

// registerTries bounds the registrations sent to get the gateway to see
// the address a probe saw.
const registerTries = 4

// register registers with gw. If want is set it is the public address the
// last probe saw, and the registration is repeated, a few times with
// backoff, until the gateway saw the same: after this node's public address
// changed, the gateway's QUIC connection moves to the new address only once
// it has validated it, one round trip after the first packet from there,
// and a registration handled before that records the old address.
func (cl *Client) register(gw gatewayRef, payload []byte, want string) error {
	backoff := 50 * time.Millisecond
	for try := range registerTries {
		ctx, cancel := context.WithTimeout(cl.ctx, 5*time.Second)
		r, err := cl.c.Request(ctx, connector.Outbound{Target: gw.control(), Type: wire.TypeRegister, Payload: payload})
		cancel()
		if err != nil {
			return err
		}
		var got wire.Registered
		if err := wire.Decode(r.Payload, &got); err != nil {
			return err
		}
		if want == "" || got.Observed == want || try == registerTries-1 || !sameFamily(want, got.Observed) {
			return nil
		}
		cl.log.Debug("gateway saw another address; registering again", "saw", got.Observed, "probed", want)
		if err := wait(cl.ctx, backoff); err != nil {
			return err
		}
		backoff *= 2
	}
	return nil
}

// localAddrs lists the addresses peers on the same network can reach this
// node at.
func (cl *Client) localAddrs() []string {
	self := cl.c.Addr()
	if !self.Addr().IsUnspecified() {
		return []string{self.String()}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok || ip.IsLoopback() || ip.IsLinkLocalUnicast() || !(ip.Unmap().Is4() || ip.IsGlobalUnicast()) {
			continue
		}
		out = append(out, netip.AddrPortFrom(ip.Unmap(), self.Port()).String())
		if len(out) == 8 {
			break
		}
	}
	return out
}

// errNoGateway reports NAT traversal without a gateway.
var errNoGateway = errors.New("natpunch: no gateway configured")
