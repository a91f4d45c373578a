package portmap

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

const (
	// procRoute is Linux's IPv4 routing table.
	procRoute = "/proc/net/route"
	// maxRouteLines bounds the lines of procRoute read.
	maxRouteLines = 4096
	// rtfGateway is RTF_GATEWAY: the route has a next hop.
	rtfGateway = 0x2
)

// DefaultGateway returns the next hop of this host's IPv4 default route:
// the LAN's router, the one to ask for a port mapping. It reads
// /proc/net/route, so it works on Linux only and answers ErrNoGateway
// elsewhere.
func DefaultGateway() (netip.Addr, error) {
	f, err := os.Open(procRoute)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: %w", ErrNoGateway, err)
	}
	defer f.Close()
	return ParseProcRoute(f)
}

// ParseProcRoute returns the gateway of the first default route of a
// /proc/net/route table (tab-separated: Iface, Destination, Gateway,
// Flags, ..., addresses in hexadecimal, in host byte order, which is
// little-endian on every platform Linux runs Go on).
func ParseProcRoute(r io.Reader) (netip.Addr, error) {
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	for n := 0; sc.Scan() && n < maxRouteLines; n++ {
		f := strings.Fields(sc.Text())
		if n == 0 || len(f) < 4 || f[1] != "00000000" {
			continue
		}
		flags, err := strconv.ParseUint(f[3], 16, 32)
		if err != nil || flags&rtfGateway == 0 {
			continue
		}
		b, err := hex.DecodeString(f[2])
		if err != nil || len(b) != 4 {
			continue
		}
		var a [4]byte
		binary.LittleEndian.PutUint32(a[:], binary.BigEndian.Uint32(b))
		if gw := netip.AddrFrom4(a); !gw.IsUnspecified() {
			return gw, nil
		}
	}
	return netip.Addr{}, ErrNoGateway
}
