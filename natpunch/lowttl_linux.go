//go:build linux

package natpunch

import (
	"errors"
	"net"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// writeWithTTL sends b to `to` from u with the IP TTL (IPv6 hop limit) of
// this one packet set to ttl, through sendmsg ancillary data, so the
// socket's other traffic keeps its TTL.
func writeWithTTL(u *net.UDPConn, b []byte, to netip.AddrPort, ttl int) error {
	level, typ := unix.IPPROTO_IP, unix.IP_TTL
	if to.Addr().Is6() {
		level, typ = unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT
	}
	oob := make([]byte, unix.CmsgSpace(4))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level, h.Type = int32(level), int32(typ)
	h.SetLen(unix.CmsgLen(4))
	*(*int32)(unsafe.Pointer(&oob[unix.CmsgLen(0)])) = int32(ttl)
	n, oobn, err := u.WriteMsgUDPAddrPort(b, oob, to)
	if err == nil && (n != len(b) || oobn != len(oob)) {
		err = errors.New("natpunch: short write")
	}
	return err
}
