//go:build !linux

package natpunch

import (
	"errors"
	"net"
	"net/netip"
)

// writeWithTTL is not supported here: the punch goes without low-TTL
// packets.
func writeWithTTL(u *net.UDPConn, b []byte, to netip.AddrPort, ttl int) error {
	return errors.New("natpunch: per-packet TTL needs Linux")
}
