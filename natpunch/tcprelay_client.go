package natpunch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// tcpRounds bounds the rounds of one stay on the TCP relay; with the
// default backoff it spans more than four days.
const tcpRounds = 100_000

// tcpLink is a bridge's relay WebSocket to its first gateway and the QUIC
// transport its control connection to the gateway runs on. The relay
// packets arriving on it go to a demux on the WebSocket's reader.
type tcpLink struct {
	gw netip.AddrPort
	pc *wsPacketConn
	tr *quic.Transport
}

// tcpState is a bridge's side of the TCP relay.
type tcpState struct {
	mu      sync.Mutex // guards link and looping
	link    *tcpLink   // nil while on UDP
	looping bool       // tcpLoop runs

	// Fallbacks counts moves to the TCP relay, Returns moves back to UDP;
	// dropped counts relay packets a failing link could not take.
	fallbacks, returns, dropped atomic.Uint64
}

// TCPStats counts a bridge's moves between UDP and the TCP relay.
type TCPStats struct {
	// Active is whether the bridge reaches its gateway over TCP now.
	Active bool
	// Fallbacks counts moves to the TCP relay, Returns moves back to UDP.
	Fallbacks, Returns uint64
	// Dropped counts relay packets a failing TCP connection could not take,
	// and the datagrams the current link dropped in either direction
	// (its send queue full, or its read queue).
	Dropped uint64
}

// TCPStats returns the bridge's TCP relay state and counters.
func (cl *Client) TCPStats() TCPStats {
	s := TCPStats{Fallbacks: cl.tcp.fallbacks.Load(), Returns: cl.tcp.returns.Load(), Dropped: cl.tcp.dropped.Load()}
	if l := cl.tcpLink(); l != nil {
		s.Active = true
		s.Dropped += l.pc.dropped.Load()
	}
	return s
}

// OnTCP reports whether the bridge reaches its gateway over the TCP relay.
func (cl *Client) OnTCP() bool { return cl.tcpLink() != nil }

func (cl *Client) tcpLink() *tcpLink {
	cl.tcp.mu.Lock()
	defer cl.tcp.mu.Unlock()
	return cl.tcp.link
}

// tcpEndpoint returns the TCP relay address of gw, or "" if it is off:
// ClientConfig.TCPRelay for the first gateway when it is set, else the
// gateway's own endpoint (TCP on the UDP port's number).
func (cl *Client) tcpEndpoint(gw gatewayRef) string {
	switch {
	case cl.cfg.TCPRelay == wire.TCPOff:
		return ""
	case cl.cfg.TCPRelay != "" && len(cl.gateways) > 0 && gw.target == cl.gateways[0].target:
		return cl.cfg.TCPRelay
	}
	return gw.target.Endpoint
}

// fallBackToTCP is called when no gateway took a registration over UDP:
// it registers over the TCP relay of the first gateway, in the order
// configured, whose relay answers, and keeps probing that gateway's UDP,
// with backoff, to move back. It reports whether a registration took.
func (cl *Client) fallBackToTCP() bool {
	for _, gw := range cl.gateways {
		if cl.tcpEndpoint(gw) == "" {
			continue
		}
		if err := cl.connectTCP(gw); err != nil {
			cl.log.Warn("TCP relay failed", "gateway", gw.target.String(), "err", err)
			continue
		}
		cl.onTCPVia(gw)
		return true
	}
	return false
}

// onTCPVia counts a move to gw's TCP relay and starts the loop that moves
// back to UDP, once.
func (cl *Client) onTCPVia(gw gatewayRef) {
	cl.tcp.fallbacks.Add(1)
	cl.log.Info("UDP gets no answer; registered over the TCP relay", "gateway", gw.target.String())
	cl.tcp.mu.Lock()
	defer cl.tcp.mu.Unlock()
	if !cl.tcp.looping && cl.goOwned(func() { cl.tcpLoop(gw) }) {
		cl.tcp.looping = true
	}
}

// connectTCP opens a new link to gw, replacing any old one, dials the
// gateway's control connection over it and registers.
func (cl *Client) connectTCP(gw gatewayRef) error {
	ctx, cancel := context.WithTimeout(cl.ctx, wire.TCPHandshakeTimeout+5*time.Second)
	defer cancel()
	ws, err := dialRelay(ctx, cl.tcpEndpoint(gw), cl.c.Identity(), gw.target.NodeID, cl.cfg.DialTCP, cl.cfg.Proxy)
	if err != nil {
		return err
	}
	link := cl.newTCPLink(ws, gw.at())
	cl.swapTCPLink(link)
	if _, err := cl.c.DialPath(ctx, link.tr, net.UDPAddrFromAddrPort(gw.at()), gw.target.NodeID, connector.PathRelayed); err != nil {
		cl.closeTCP()
		return err
	}
	if err := cl.registerUnprobed(gw); err != nil {
		cl.closeTCP()
		return fmt.Errorf("natpunch: registering over the TCP relay: %w", err)
	}
	return nil
}

// newTCPLink starts the link over ws; closeTCP or swapTCPLink stops it.
func (cl *Client) newTCPLink(ws *websocket.Conn, gw netip.AddrPort) *tcpLink {
	d := wire.NewDemux(cl.log)
	d.OnRelay = cl.d.OnRelay
	pc := newWSPacketConn(ws, net.UDPAddrFromAddrPort(gw), d.Dispatch)
	return &tcpLink{gw: gw, pc: pc, tr: &quic.Transport{Conn: pc}}
}

func (l *tcpLink) close() {
	l.tr.Close()
	l.pc.Close()
}

// swapTCPLink installs l, closing the link it replaces.
func (cl *Client) swapTCPLink(l *tcpLink) {
	cl.tcp.mu.Lock()
	old := cl.tcp.link
	cl.tcp.link = l
	cl.tcp.mu.Unlock()
	if old != nil {
		old.close()
	}
}

// closeTCP closes the link, if any: the gateway's control connection over
// it closes, and relay packets go over UDP again.
func (cl *Client) closeTCP() { cl.swapTCPLink(nil) }

// tcpWrite sends a relay packet for the gateway at to over the link, and
// reports false, sending nothing, for other packets or without a link. A
// packet the link cannot take is dropped, as UDP would drop it: an error
// would end the relayed QUIC connection that sent it, which must instead
// outlive a link that fails and is reopened.
func (cl *Client) tcpWrite(b []byte, to netip.AddrPort) (bool, error) {
	l := cl.tcpLink()
	if l == nil || to != l.gw || !wire.IsType(b, wire.PacketRelay) {
		return false, nil
	}
	if _, err := l.pc.WriteTo(b, nil); err != nil {
		cl.tcp.dropped.Add(1)
	}
	return true, nil
}

// tcpLoop keeps the bridge on the TCP relay until UDP answers again: it
// probes the gateway over UDP with backoff (UDPRetryMin to UDPRetryMax),
// and reopens the link at once when it fails. When a probe is answered it
// closes the link and registers over UDP; the gateway then moves the
// bridge's relay sessions to its UDP address, and relayed peers upgrade to
// direct paths as relayed peers do.
func (cl *Client) tcpLoop(gw gatewayRef) {
	defer func() {
		cl.tcp.mu.Lock()
		cl.tcp.looping = false
		cl.tcp.mu.Unlock()
	}()
	backoff := cl.cfg.UDPRetryMin
	for range tcpRounds {
		var dead <-chan struct{}
		if l := cl.tcpLink(); l != nil {
			dead = l.pc.Done()
		}
		t := time.NewTimer(backoff)
		select {
		case <-cl.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-dead:
			t.Stop()
		}
		if cl.udpAnswers(gw) && cl.backToUDP(gw) {
			return
		}
		if l := cl.tcpLink(); l == nil || l.pc.ctx.Err() != nil {
			switch err := cl.connectTCP(gw); {
			case err == nil:
				cl.log.Info("TCP relay reconnected", "gateway", gw.target.String())
			case !errors.Is(err, context.Canceled):
				cl.log.Warn("TCP relay failed", "gateway", gw.target.String(), "err", err)
			}
		}
		backoff = min(2*backoff, cl.cfg.UDPRetryMax)
	}
}

// udpAnswers reports whether gw answers a probe over UDP.
func (cl *Client) udpAnswers(gw gatewayRef) bool {
	ctx, cancel := context.WithTimeout(cl.ctx, 2*time.Second)
	defer cancel()
	_, _, err := cl.prober().ask(ctx, gw.at(), 0)
	return err == nil
}

// backToUDP dials the gateway over UDP, which replaces the relayed control
// connection in the pool, registers over it and then closes the link, so
// the bridge is never without a registration. It reports whether that
// took. The NAT is then probed fully and the registration refreshed.
func (cl *Client) backToUDP(gw gatewayRef) bool {
	ctx, cancel := context.WithTimeout(cl.ctx, 10*time.Second)
	defer cancel()
	_, err := cl.c.DialPath(ctx, nil, net.UDPAddrFromAddrPort(gw.at()), gw.target.NodeID, connector.PathDirect)
	if err == nil {
		err = cl.registerUnprobed(gw)
	}
	if err != nil {
		cl.log.Info("UDP answers probes but registration failed; staying on the TCP relay", "gateway", gw.target.String(), "err", err)
		return false
	}
	cl.closeTCP()
	cl.tcp.returns.Add(1)
	cl.log.Info("UDP works again; registered over UDP", "gateway", gw.target.String())
	cl.registerAll(cl.refreshReport())
	return true
}

// registerUnprobed registers with gw with the NAT report at hand, without
// probing first.
func (cl *Client) registerUnprobed(gw gatewayRef) error {
	report := cl.Report()
	if report == nil {
		report = &Report{Mapping: wire.Unknown, Filtering: wire.Unknown}
	}
	payload, err := wire.Encode(&wire.Registration{Local: cl.localAddrs(), Mapping: report.Mapping, Filtering: report.Filtering})
	if err != nil {
		return err
	}
	return cl.register(gw, payload, "")
}

// routeTCP is Route while this bridge is on the TCP relay: its UDP gets no
// answer, so direct dials and punches cannot work yet. The pair starts
// relayed and upgrades once UDP works again.
func (cl *Client) routeTCP(ctx context.Context, gw gatewayRef, id identity.NodeID, opts connector.NATOptions) (connector.Conn, error) {
	conn, err := cl.relayTo(ctx, gw, id)
	cl.trace(id, "relay", err)
	if err != nil {
		return connector.Conn{}, err
	}
	cl.startUpgrade(gw, id, opts)
	return conn, nil
}

// ProbeTCP reports whether gateway gw's TCP relay answers, when its UDP
// does not: the report says UDP is blocked, and knows nothing of the NAT.
func (cl *Client) ProbeTCP(ctx context.Context, gw connector.Target) (*Report, error) {
	endpoint := cl.tcpEndpoint(gatewayRef{target: gw})
	if endpoint == "" {
		return nil, ErrTCPRelayOff
	}
	ws, err := dialRelay(ctx, endpoint, cl.c.Identity(), gw.NodeID, cl.cfg.DialTCP, cl.cfg.Proxy)
	if err != nil {
		return nil, err
	}
	ws.CloseNow()
	return &Report{Gateway: gw.Endpoint, Mapping: wire.Unknown, Filtering: wire.Unknown, NATType: wire.Unknown, UDP: UDPBlocked}, nil
}
