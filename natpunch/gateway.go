package natpunch

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
)

// GatewayConfig configures a Gateway. Zero fields mean the defaults named.
type GatewayConfig struct {
	// Listen are the UDP addresses to serve on. A second address (another IP
	// and port) lets NAT probes tell mapping and filtering behaviour apart.
	Listen []string
	// RegistrationTTL is how long a bridge's registration lasts without a
	// refresh. Expired records are swept every quarter of it. Default 90 s.
	RegistrationTTL time.Duration
	// Relay limits relay sessions and the traffic through them.
	Relay RelayLimits
	// RelayIdleTimeout closes a relay session that forwarded nothing for
	// this long. Relayed QUIC connections send keep-alives every 15 s, so
	// only sessions nobody uses any more end. Default 2 minutes.
	RelayIdleTimeout time.Duration
	// Limits bound what bridges can make the gateway hold and do.
	Limits GatewayLimits
}

// validate refuses negative bounds; rates may be negative (unlimited).
func (cfg *GatewayConfig) validate() error {
	l, r := cfg.Limits, cfg.Relay
	for _, n := range []int{l.MaxRegistrations, l.MaxLocalAddrs, l.MaxRecordBytes, l.MaxKeys, r.ClientPacketBurst, r.ReceivePacketBurst, r.MaxSessionsPerClient, r.MaxSessions} {
		if n < 0 {
			return errors.New("natpunch: gateway limits must not be negative")
		}
	}
	return nil
}

// Gateway is the rendezvous and relay server: bridges register with it,
// look each other up, have it time their hole punches, and relay through it
// when nothing else works. It relays opaque packets, so the peers' QUIC runs
// end to end and the gateway can neither read nor forge what they say.
type Gateway struct {
	cfg   GatewayConfig
	id    *identity.Identity
	log   *slog.Logger
	conns []*connector.Connector
	muxes []*demux
	addrs []netip.AddrPort
	reg   *registry
	relay *relayTable
	rates gatewayRates

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewGateway returns a gateway with identity id. It does no I/O.
func NewGateway(cfg GatewayConfig, id *identity.Identity, log *slog.Logger) (*Gateway, error) {
	if len(cfg.Listen) == 0 {
		return nil, errors.New("natpunch: gateway needs a listen address")
	}
	if cfg.RegistrationTTL == 0 {
		cfg.RegistrationTTL = 90 * time.Second
	}
	if cfg.RelayIdleTimeout == 0 {
		cfg.RelayIdleTimeout = 2 * time.Minute
	}
	if cfg.RegistrationTTL < 0 || cfg.RelayIdleTimeout < 0 {
		return nil, errors.New("natpunch: gateway timeouts must not be negative")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Limits.populate()
	cfg.Relay.populate()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Gateway{
		cfg: cfg, id: id, log: log,
		reg: newRegistry(cfg.Limits.MaxRegistrations), relay: newRelayTable(cfg.Relay), rates: newGatewayRates(cfg.Limits),
	}, nil
}

// Start binds every listen address and starts serving.
func (g *Gateway) Start(ctx context.Context) error {
	udps := make([]*net.UDPConn, 0, len(g.cfg.Listen))
	for _, a := range g.cfg.Listen {
		laddr, err := net.ResolveUDPAddr("udp", a)
		if err == nil {
			var u *net.UDPConn
			if u, err = net.ListenUDP("udp", laddr); err == nil {
				udps = append(udps, u)
				continue
			}
		}
		for _, u := range udps {
			u.Close()
		}
		return fmt.Errorf("natpunch: gateway listen %s: %w", a, err)
	}
	return g.StartOn(udps)
}

// StartOn serves on sockets the caller made; the gateway owns them.
func (g *Gateway) StartOn(udps []*net.UDPConn) error {
	g.ctx, g.cancel = context.WithCancel(context.Background())
	for i, u := range udps {
		c, err := connector.New(connector.Config{IdleTimeout: 10 * time.Minute, ReverifyAfter: -1}, g.id, g.log)
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
			return fmt.Errorf("natpunch: gateway on %s: %w", u.LocalAddr(), err)
		}
		c.SetHandler(g.handler(i))
		g.conns = append(g.conns, c)
		g.addrs = append(g.addrs, c.Addr())
		d := newDemux(c.Transport(), g.log)
		d.onProbe = g.probeServer(i)
		d.onRelay = g.forward
		g.muxes = append(g.muxes, d)
	}
	for _, d := range g.muxes {
		g.wg.Go(func() { d.run(g.ctx) })
	}
	g.wg.Go(g.expireRelays)
	g.wg.Go(g.sweepRegistrations)
	g.log.Info("gateway running", "node", g.id.NodeID().String(), "addrs", g.addrs)
	return nil
}

// Close stops the gateway and waits for it.
func (g *Gateway) Close() error {
	if g.cancel != nil {
		g.cancel()
	}
	var errs []error
	for _, c := range g.conns {
		errs = append(errs, c.Close())
	}
	g.wg.Wait()
	return errors.Join(errs...)
}

// NodeID returns the gateway's node ID.
func (g *Gateway) NodeID() identity.NodeID { return g.id.NodeID() }

// Addrs returns the bound addresses, in the order of GatewayConfig.Listen.
func (g *Gateway) Addrs() []netip.AddrPort { return append([]netip.AddrPort(nil), g.addrs...) }

// RelayStats returns how many relay sessions exist and how many packets
// were forwarded and dropped.
func (g *Gateway) RelayStats() (sessions int, forwarded, dropped uint64) { return g.relay.stats() }

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
// address only, never larger than the probe, from the other address if the
// probe asks for it.
func (g *Gateway) probeServer(i int) func(netip.AddrPort, probe) {
	return func(from netip.AddrPort, p probe) {
		o := g.other(i)
		resp := probeResponse{txn: p.txn, observed: from}
		if o >= 0 {
			resp.other = g.addrs[o]
		}
		out := g.conns[i]
		if p.flags&probeFlagChange != 0 {
			if o < 0 {
				return
			}
			out = g.conns[o]
		}
		out.Transport().WriteTo(resp.append(make([]byte, 0, probeResponseSize)), net.UDPAddrFromAddrPort(from))
	}
}

// expireRelays closes idle relay sessions until the gateway closes.
func (g *Gateway) expireRelays() {
	t := time.NewTicker(max(g.cfg.RelayIdleTimeout/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case now := <-t.C:
			if n := g.relay.expire(now, g.cfg.RelayIdleTimeout); n > 0 {
				g.log.Info("idle relay sessions closed", "sessions", n)
			}
		}
	}
}

// sweepRegistrations deletes expired registrations every quarter of the
// TTL until the gateway closes.
func (g *Gateway) sweepRegistrations() {
	t := time.NewTicker(max(g.cfg.RegistrationTTL/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case now := <-t.C:
			if n := g.reg.sweep(now); n > 0 {
				g.log.Debug("expired registrations swept", "records", n)
			}
		}
	}
}

// newSessionID makes a random relay session ID.
func newSessionID() (sessionID, error) {
	var s sessionID
	_, err := rand.Read(s[:])
	return s, err
}
