package natpunch

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// ErrNoAnswer reports a probe the gateway never answered.
var ErrNoAnswer = errors.New("natpunch: gateway did not answer the probe")

// Report is what a NAT probe found out, for a person or a program.
type Report struct {
	Gateway   string `json:"gateway"`
	Local     string `json:"local"`
	Public    string `json:"public"`
	Mapping   string `json:"mapping"`
	Filtering string `json:"filtering"`
	// NATType is the common name: none, full cone, restricted cone,
	// symmetric (RFC 4787 calls it endpoint-dependent mapping).
	NATType string `json:"nat_type"`
	// RTTMillis is the probe round trip to each gateway address.
	RTTMillis map[string]float64 `json:"rtt_ms"`
	// UDP is UDPOK when the gateway answered over UDP, UDPBlocked when
	// only its TCP relay did (see Client.ProbeTCP).
	UDP string `json:"udp,omitempty"`
}

// Values of Report.UDP.
const (
	UDPOK      = "ok"
	UDPBlocked = "blocked"
)

// String renders the report for a person.
func (r *Report) String() string {
	s := fmt.Sprintf("NAT type:   %s\npublic:     %s\nlocal:      %s\nmapping:    %s\nfiltering:  %s\n", r.NATType, r.Public, r.Local, r.Mapping, r.Filtering)
	if r.UDP != "" {
		s += fmt.Sprintf("udp:        %s\n", r.UDP)
	}
	for a, ms := range r.RTTMillis {
		s += fmt.Sprintf("rtt:        %.2f ms to %s\n", ms, a)
	}
	return s
}

// prober sends probes from a QUIC transport's socket.
type prober struct {
	d     *wire.Demux
	write func(b []byte, to netip.AddrPort) error
	// tries and wait bound each probe: tries packets, wait apart.
	tries int
	wait  time.Duration
}

// ask sends a probe to `to` until it is answered or the tries run out.
func (p *prober) ask(ctx context.Context, to netip.AddrPort, flags byte) (wire.ProbeResponse, time.Duration, error) {
	var pr wire.Probe
	if _, err := rand.Read(pr.Txn[:]); err != nil {
		return wire.ProbeResponse{}, 0, err
	}
	pr.Flags = flags
	ch := p.d.Expect(pr.Txn)
	defer p.d.Forget(pr.Txn)
	pkt := pr.Append(make([]byte, 0, wire.ProbeSize))
	for range p.tries {
		sent := time.Now()
		if err := p.write(pkt, to); err != nil {
			return wire.ProbeResponse{}, 0, fmt.Errorf("natpunch: sending probe to %s: %w", to, err)
		}
		t := time.NewTimer(p.wait)
		select {
		case r := <-ch:
			t.Stop()
			return r, time.Since(sent), nil
		case <-ctx.Done():
			t.Stop()
			return wire.ProbeResponse{}, 0, ctx.Err()
		case <-t.C:
		}
	}
	return wire.ProbeResponse{}, 0, fmt.Errorf("%w: %s after %d tries", ErrNoAnswer, to, p.tries)
}

// run probes gateway: its address, then (mapping) its other address, then
// (filtering) its first address again, asking for the answer from an
// endpoint this socket never sent to. Mapping goes first and the filtering
// answer comes from an endpoint of its own because an unsolicited packet
// can itself change the mapping: a NAT that accepts it into its own stack
// (a Linux masquerade host without an input drop, as Docker hosts are)
// records a connection for it, and the next outbound flow to the endpoint
// it came from is moved to another port.
func (p *prober) run(ctx context.Context, gateway netip.AddrPort, local netip.AddrPort) (*Report, error) {
	r := &Report{Gateway: gateway.String(), Local: local.String(), Mapping: wire.Unknown, Filtering: wire.Unknown, NATType: wire.Unknown, RTTMillis: map[string]float64{}}
	first, rtt, err := p.ask(ctx, gateway, 0)
	if err != nil {
		return nil, err
	}
	r.Public = first.Observed.String()
	r.UDP = UDPOK
	r.RTTMillis[gateway.String()] = ms(rtt)
	if first.Other.IsValid() && sameFamily(first.Other.String(), gateway.String()) { // ipv6: an address of the other family maps apart
		second, rtt, err := p.ask(ctx, first.Other, 0)
		if err != nil {
			return nil, err
		}
		r.RTTMillis[first.Other.String()] = ms(rtt)
		r.Mapping = wire.MappingIndependent
		if second.Observed != first.Observed {
			r.Mapping = wire.MappingDependent
		}
		r.Filtering = wire.FilteringDependent
		if _, _, err := p.ask(ctx, gateway, wire.ProbeFlagChange); err == nil {
			r.Filtering = wire.FilteringIndependent
		} else if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	r.NATType = natType(first.Observed, local, r.Mapping, r.Filtering)
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// natType names the NAT in common words.
func natType(public, local netip.AddrPort, mapping, filtering string) string {
	switch {
	case isLocal(public, local):
		return "none"
	case mapping == wire.MappingDependent:
		return "symmetric"
	case mapping == wire.MappingIndependent && filtering == wire.FilteringIndependent:
		return "full cone"
	case mapping == wire.MappingIndependent && filtering == wire.FilteringDependent:
		return "restricted or port-restricted cone"
	}
	return wire.Unknown
}

// isLocal reports whether public is an address of this host with the same
// port, i.e. there is no NAT.
func isLocal(public, local netip.AddrPort) bool {
	if public.Port() != local.Port() {
		return false
	}
	if local.Addr() == public.Addr() {
		return true
	}
	if !local.Addr().IsUnspecified() {
		return false
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap() == public.Addr() {
				return true
			}
		}
	}
	return false
}
