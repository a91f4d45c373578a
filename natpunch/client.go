package natpunch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// ClientConfig configures a bridge's NAT traversal. Zero fields mean the
// defaults named.
type ClientConfig struct {
	// Gateways to register with; each needs node ID and endpoint.
	Gateways []connector.Target
	// DirectTimeout bounds the direct dial to a peer's known addresses. Default 1.5 s.
	DirectTimeout time.Duration
	// PunchTimeout bounds one hole punch. Default 3 s.
	PunchTimeout time.Duration
	// RegisterEvery is how often registrations are refreshed. Default 30 s.
	RegisterEvery time.Duration
	// UpgradeMin and UpgradeMax bound the backoff between attempts to move a
	// relayed peer to a direct path. Defaults 1 s and 10 s: a path that
	// opens is taken within about 15 s however long the pair was relayed
	// (iroh holds its pairs to the same), at the cost of a lookup and a
	// punch every 10 s per relayed peer.
	UpgradeMin, UpgradeMax time.Duration
	// Trace, if set, is told of every traversal step.
	Trace func(Event)

	// PunchPackets bounds the punch packets one hole punch sends, over all
	// its addresses. Default 200 (2.2 kB).
	PunchPackets int
	// PunchesPerMinute bounds the hole punches one peer can have this
	// bridge make, through a gateway, per minute and in a burst. Default 8.
	PunchesPerMinute int
	// MaxPunches bounds the hole punches made for peers at once; each peer
	// has at most one. Default 4.
	MaxPunches int
	// RelayIdleTimeout ends a relay session that carried nothing for this
	// long, as the gateway does. Default 2 minutes.
	RelayIdleTimeout time.Duration
	// MaxRelaySessionsPerPeer and MaxRelaySessions bound the relay sessions
	// this bridge asks for or agrees to, per peer and in all. Defaults 4
	// and 256.
	MaxRelaySessionsPerPeer, MaxRelaySessions int
	// TCPRelay is the first gateway's TCP relay address (host:port), used
	// when no gateway answers over UDP. Empty means the gateway's own
	// endpoint (TCP on the same port); TCPOff switches it off.
	TCPRelay string
	// DialTCP opens the TCP relay's connections, to the gateway or to the
	// proxy. Nil means net.Dialer's.
	DialTCP DialFunc
	// Proxy picks the HTTP proxy the TCP relay tunnels through (CONNECT).
	// Nil means HTTPS_PROXY and NO_PROXY from the environment.
	Proxy ProxyFunc
	// UDPRetryMin and UDPRetryMax bound the backoff between UDP probes of
	// the gateway while on the TCP relay. Defaults 1 s and 4 s.
	UDPRetryMin, UDPRetryMax time.Duration
}

// Default bridge limits; see ClientConfig.
const (
	DefaultPunchPackets = 200
	// DefaultPunchesPerMinute leaves room for a relayed peer's upgrade
	// attempts, one every UpgradeMax (10 s) at most, and a first contact.
	DefaultPunchesPerMinute     = 8
	DefaultMaxPunches           = 4
	DefaultRelaySessionsPerPeer = 4
	DefaultRelaySessions        = 256
	DefaultRelayIdleTimeout     = 2 * time.Minute
)

func (c *ClientConfig) populate() {
	setDefault(&c.DirectTimeout, 1500*time.Millisecond)
	setDefault(&c.PunchTimeout, 3*time.Second)
	setDefault(&c.RegisterEvery, 30*time.Second)
	setDefault(&c.UpgradeMin, time.Second)
	setDefault(&c.UpgradeMax, 10*time.Second)
	setDefault(&c.RelayIdleTimeout, DefaultRelayIdleTimeout)
	setDefault(&c.UDPRetryMin, DefaultUDPRetryMin)
	setDefault(&c.UDPRetryMax, DefaultUDPRetryMax)
	setDefaultInt(&c.PunchPackets, DefaultPunchPackets)
	setDefaultInt(&c.PunchesPerMinute, DefaultPunchesPerMinute)
	setDefaultInt(&c.MaxPunches, DefaultMaxPunches)
	setDefaultInt(&c.MaxRelaySessionsPerPeer, DefaultRelaySessionsPerPeer)
	setDefaultInt(&c.MaxRelaySessions, DefaultRelaySessions)
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

// Event is one step of NAT traversal toward a peer.
type Event struct {
	Peer identity.NodeID
	// Step is "direct", "punch", "relay" or "upgrade".
	Step string
	Err  error
}

// gateway is a configured gateway with its resolved address.
type gateway struct {
	target connector.Target
	addr   netip.AddrPort
}

// Client is a bridge's side of NAT traversal: it registers with gateways,
// probes its NAT, and routes sends to peers that have no pooled connection:
// direct dial, then a coordinated hole punch, then the relay.
type Client struct {
	c        Connector
	cfg      ClientConfig
	log      *slog.Logger
	d        *demux
	relay    *relayConn
	relayTr  *quic.Transport
	gateways []gateway
	punches  *punchGate
	grants   *keyLimiter // relay sessions peers ask for, per peer and in all
	sent     punchCounters
	tcp      tcpState // the TCP relay, when UDP gets no answer

	mu         sync.Mutex // guards the fields below
	report     *Report
	registered chan struct{} // closed at the first successful registration
	upgrading  map[identity.NodeID]bool

	// ctx is the client's lifetime, set by Start and cancelled by Close.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	goMu   sync.Mutex // guards ctx and cancel; orders goOwned's starts before Close's cancel
}

// NewClient returns NAT traversal for connector c. It does no I/O.
func NewClient(c Connector, cfg ClientConfig, log *slog.Logger) (*Client, error) {
	cfg.populate()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.PunchPackets < 0 || cfg.PunchesPerMinute < 0 || cfg.MaxPunches < 0 || cfg.MaxRelaySessions < 0 || cfg.MaxRelaySessionsPerPeer < 0 || cfg.RelayIdleTimeout < 0 {
		return nil, errors.New("natpunch: client limits must not be negative")
	}
	cl := &Client{
		c: c, cfg: cfg, log: log, registered: make(chan struct{}), upgrading: make(map[identity.NodeID]bool),
		punches: newPunchGate(cfg),
		// A peer can have this bridge agree to a relay session every 15 s
		// on average, in bursts of its session bound; all peers together
		// one a second, in bursts of 16.
		grants: newKeyLimiter(Rate{PerSecond: 1.0 / 15, Burst: cfg.MaxRelaySessionsPerPeer}, Rate{PerSecond: 1, Burst: 16}.limiter(), 4096),
	}
	cl.relay = newRelayConn(cl.writeTo, cfg.MaxRelaySessionsPerPeer, cfg.MaxRelaySessions)
	for _, t := range cfg.Gateways {
		if t.NodeID == "" || t.Endpoint == "" {
			return nil, fmt.Errorf("natpunch: gateway %q needs NODEID@host:port", t)
		}
		ap, err := netip.ParseAddrPort(t.Endpoint)
		if err != nil {
			ua, rerr := net.ResolveUDPAddr("udp", t.Endpoint)
			if rerr != nil {
				return nil, fmt.Errorf("natpunch: gateway %s: %w", t.Endpoint, rerr)
			}
			ap = ua.AddrPort()
		}
		cl.gateways = append(cl.gateways, gateway{target: t, addr: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())})
	}
	return cl, nil
}

// Start takes over the connector's non-QUIC packets, starts the relay
// transport, installs the client as the connector's router, and starts
// probing and registering with the gateways in the background. Call it
// after the connector has started.
func (cl *Client) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	cl.goMu.Lock()
	cl.ctx, cl.cancel = ctx, cancel
	cl.goMu.Unlock()
	cl.d = newDemux(cl.log)
	cl.d.onRelay = func(from netip.AddrPort, s sessionID, pkt []byte) {
		if !cl.relay.deliver(from, s, pkt[relayOverhead:]) {
			cl.d.dropped.Add(1)
		}
	}
	cl.relayTr = &quic.Transport{Conn: cl.relay}
	ln, err := cl.relayTr.Listen(cl.c.Identity().ServerTLS(), cl.c.QUICConfig())
	if err != nil {
		return fmt.Errorf("natpunch: relay listener: %w", err)
	}
	cl.wg.Go(func() { cl.acceptRelayed(ln) })
	cl.wg.Go(cl.expireRelays)
	if len(cl.gateways) > 0 {
		cl.wg.Go(cl.registerLoop)
	}
	cl.c.SetRouter(cl)
	cl.c.SetNonQUICHandler(cl.d.dispatch)
	return nil
}

// Close stops the client and waits for its goroutines. Close the
// connector after it.
func (cl *Client) Close() error {
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
	return err
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
	var once sync.Once
	t := time.NewTicker(cl.cfg.RegisterEvery)
	defer t.Stop()
	for {
		if cl.registerAll(cl.refreshReport()) || cl.fallBackToTCP() { // tcprelay: fallBackToTCP
			once.Do(func() { close(cl.registered) })
		}
		select {
		case <-cl.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refreshReport returns the NAT report to register with. The NAT is probed
// fully the first time and whenever one probe shows a new public address:
// the NAT forgot its mappings (a timeout, a restart, another network) and
// may behave differently now. A full probe is not repeated otherwise,
// because this socket has since sent to the gateway's other address, which
// would make the filtering test pass on any NAT.
func (cl *Client) refreshReport() *Report {
	gw := cl.gateways[0]
	ctx, cancel := context.WithTimeout(cl.ctx, 10*time.Second)
	defer cancel()
	last := cl.Report()
	if last != nil && last.Public != "" {
		r, _, err := cl.prober().ask(ctx, gw.addr, 0)
		if err != nil || r.observed.String() == last.Public {
			return last
		}
		cl.log.Info("public address changed", "from", last.Public, "to", r.observed.String())
	}
	report, err := cl.Probe(ctx, gw.addr)
	if err != nil {
		cl.log.Warn("NAT probe failed", "gateway", gw.target.String(), "err", err)
		if last != nil {
			return last
		}
		report = &Report{Mapping: Unknown, Filtering: Unknown, NATType: Unknown}
	} else {
		cl.log.Info("NAT probed", "type", report.NATType, "public", report.Public, "mapping", report.Mapping, "filtering", report.Filtering)
	}
	cl.mu.Lock()
	cl.report = report
	cl.mu.Unlock()
	return report
}

// registerAll registers with every gateway and reports whether one took it.
func (cl *Client) registerAll(report *Report) bool {
	payload, err := encode(&registration{Local: cl.localAddrs(), Mapping: report.Mapping, Filtering: report.Filtering})
	if err != nil {
		return false
	}
	ok := false
	for i, gw := range cl.gateways {
		want := ""
		if i == 0 {
			want = report.Public // probed on this gateway
		}
		if err := cl.register(gw, payload, want); err != nil {
			cl.log.Warn("gateway registration failed", "gateway", gw.target.String(), "err", err)
			continue
		}
		ok = true
	}
	return ok
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
func (cl *Client) register(gw gateway, payload []byte, want string) error {
	backoff := 50 * time.Millisecond
	for try := range registerTries {
		ctx, cancel := context.WithTimeout(cl.ctx, 5*time.Second)
		r, err := cl.c.Request(ctx, connector.Outbound{Target: gw.target, Type: typeRegister, Payload: payload})
		cancel()
		if err != nil {
			return err
		}
		var got registered
		if err := decode(r.Payload, &got); err != nil {
			return err
		}
		if want == "" || got.Observed == want || try == registerTries-1 {
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
		if !ok || ip.IsLoopback() || ip.IsLinkLocalUnicast() || !ip.Unmap().Is4() {
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
