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
	ns    string
	addrs []netip.Addr
}

// Name returns the host's namespace name, usable with "ip netns exec".
func (h *Host) Name() string { return h.ns }

// Addrs returns the host's IPv4 addresses, the first being its primary one.
func (h *Host) Addrs() []netip.Addr { return slices.Clone(h.addrs) }

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

// Command returns a command that runs program name with args inside the
// host's namespace (through "ip netns exec"). ctx bounds its life as in
// exec.CommandContext.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.ns, name}, args...)...)
}

// SetLoss makes the host drop percent per cent of the packets it sends and,
// separately, of those it receives, chosen at random (nftables numgen). 0
// removes the loss.
func (h *Host) SetLoss(percent int) error {
	return setLoss(h.ns, percent, "input", "output")
}
