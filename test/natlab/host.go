package natlab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"slices"
)

// Host is a network namespace with one interface, either on the public
// segment or on a NAT's LAN. Create it with [Lab.AddPublicHost] or
// [NAT.AddHost].
type Host struct {
	ns     string
	addrs  []netip.Addr
	addrs6 []netip.Addr // see WithIPv6
	// wireNS and wireDev are the far end of the host's link (its port on
	// the public bridge or its router's LAN bridge), where the packets it
	// sends are dropped to simulate loss.
	wireNS, wireDev string
}

// Name returns the host's namespace name, usable with "ip netns exec".
func (h *Host) Name() string { return h.ns }

// Addrs returns the host's IPv4 addresses, the first being its primary one.
func (h *Host) Addrs() []netip.Addr { return slices.Clone(h.addrs) }

// Subnets returns the host's subnets: every lab segment is a /24, and
// with IPv6 (see WithIPv6) a /64.
func (h *Host) Subnets() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(h.addrs)+len(h.addrs6))
	for _, a := range h.addrs {
		out = append(out, netip.PrefixFrom(a, 24).Masked())
	}
	for _, a := range h.addrs6 {
		out = append(out, netip.PrefixFrom(a, 64).Masked())
	}
	return out
}

// ListenUDP opens a UDP socket inside the host's namespace, bound to addr.
// An invalid (zero) address in addr binds every address of the host; port 0
// picks a free port. The socket stays in the namespace for its whole life and
// may be used from any goroutine, for example as a quic-go transport's
// net.PacketConn.
func (h *Host) ListenUDP(addr netip.AddrPort) (*net.UDPConn, error) {
	laddr := &net.UDPAddr{Port: int(addr.Port())}
	if addr.Addr().IsValid() {
		laddr.IP = addr.Addr().AsSlice()
	}
	var conn *net.UDPConn
	err := inNetns(h.ns, func() error {
		var err error
		conn, err = net.ListenUDP("udp4", laddr)
		return err
	})
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, fmt.Errorf("natlab: listen udp %s in %s: %w", addr, h.ns, err)
	}
	return conn, nil
}

// DialContext connects to address over network from inside the host's
// namespace, as a program on the host would; the connection stays in the
// namespace for its whole life. It fits nats.SetCustomDialer and the like.
func (h *Host) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var conn net.Conn
	err := inNetns(h.ns, func() error {
		var d net.Dialer
		var err error
		conn, err = d.DialContext(ctx, network, address)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("natlab: dial %s %s in %s: %w", network, address, h.ns, err)
	}
	return conn, nil
}

// Command returns a command that runs program name with args inside the
// host's namespace (through "ip netns exec"). ctx bounds its life as in
// exec.CommandContext.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.ns, name}, args...)...)
}

// SetLoss makes percent per cent of the packets the host sends and,
// separately, of those it receives get lost, chosen at random (nftables
// numgen). 0 removes the loss. Packets it sends are lost on the wire, past
// its interface, so the sender sees no error, as with real loss (dropping
// them in the host's own output hook would make its sendmsg fail with
// EPERM, which QUIC rightly treats as fatal).
func (h *Host) SetLoss(percent int) error {
	if err := setLoss(h.ns, percent, "input"); err != nil {
		return err
	}
	return setWireLoss(h.wireNS, h.wireDev, percent)
}
