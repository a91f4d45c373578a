package portmap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"
)

// DialFunc opens a connection as net.Dialer.DialContext does: "udp4" to
// the router's NAT-PMP, PCP and SSDP ports, "tcp4" to its UPnP HTTP
// server.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

const (
	// maxReply is the largest reply read: PCP's largest message (RFC 6887
	// section 7); NAT-PMP's are 16 bytes, SSDP's a few hundred.
	maxReply = 1100
	// firstWait is the wait for the first reply; each retry doubles it
	// (RFC 6886 starts at 250 ms).
	firstWait = 250 * time.Millisecond
	// tries bounds the requests one exchange sends: 250+500+1000 ms.
	tries = 3
	// maxStray bounds the packets one exchange reads that are not its
	// answer, so a chatty router cannot hold it.
	maxStray = 16
)

// exchange sends req on conn and returns the first reply that decode
// accepts (true), resending with a doubling wait up to tries times, and
// reading at most maxStray other packets. It ends when ctx does.
func exchange(ctx context.Context, conn net.Conn, req []byte, decode func([]byte) (bool, error)) error {
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, maxReply)
	wait, stray := firstWait, 0
	var last error
	for range tries {
		if _, err := conn.Write(req); err != nil {
			return fmt.Errorf("portmap: send: %w", err)
		}
		deadline := time.Now().Add(wait)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		conn.SetReadDeadline(deadline)
		for stray < maxStray {
			n, err := conn.Read(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil { // an ICMP port unreachable, most often
				return fmt.Errorf("%w: receive: %w", ErrNoRouter, err)
			}
			ok, err := decode(buf[:n])
			if ok || (err != nil && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed)) {
				return err
			}
			last, stray = err, stray+1
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%w: %w", ErrNoRouter, err)
		}
		wait *= 2
	}
	if last != nil {
		return fmt.Errorf("%w: no valid reply: %w", ErrNoRouter, last)
	}
	return fmt.Errorf("%w: no reply", ErrNoRouter)
}

// dialRouter opens a UDP socket connected to the router's port, so the
// kernel passes on only the router's packets, and returns it with this
// host's address toward the router.
func dialRouter(ctx context.Context, dial DialFunc, gw netip.Addr, port int) (net.Conn, netip.Addr, error) {
	conn, err := dial(ctx, "udp4", net.JoinHostPort(gw.String(), strconv.Itoa(port)))
	if err != nil {
		return nil, netip.Addr{}, fmt.Errorf("portmap: dial router %s: %w", gw, err)
	}
	ua, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok {
		conn.Close()
		return nil, netip.Addr{}, fmt.Errorf("portmap: dial router %s: local address %v", gw, conn.LocalAddr())
	}
	return conn, ua.AddrPort().Addr().Unmap(), nil
}
