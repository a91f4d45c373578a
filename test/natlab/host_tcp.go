package natlab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// ListenTCP opens a TCP listener inside the host's namespace, bound to
// addr (port 0 picks a free port).
func (h *Host) ListenTCP(addr netip.AddrPort) (net.Listener, error) {
	var ln net.Listener
	err := inNetns(h.ns, func() error {
		var err error
		ln, err = net.Listen("tcp4", addr.String())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("natlab: listen tcp %s in %s: %w", addr, h.ns, err)
	}
	return ln, nil
}

// DialTCP opens a TCP connection from inside the host's namespace, with the
// signature of net.Dialer.DialContext.
func (h *Host) DialTCP(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := inNetns(h.ns, func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("natlab: dial %s %s from %s: %w", network, addr, h.ns, err)
	}
	return c, nil
}
