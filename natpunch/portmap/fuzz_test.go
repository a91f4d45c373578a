package portmap

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

// The router's replies are fuzzed: no input may panic, and what decodes
// must hold the fields its layout has room for.

func FuzzPMPReply(f *testing.F) {
	for _, s := range [][]byte{pmpExternalOK, pmpMapOK, pmpMapFailed, {}, {0, 128}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParsePMPReply(b)
		if err == nil && r.Result == 0 && r.Op == pmpReplyBit|pmpOpMapUDP && len(b) < pmpMapLen {
			t.Fatalf("mapping decoded from %d bytes", len(b))
		}
	})
}

func FuzzPCPReply(f *testing.F) {
	for _, s := range [][]byte{pcpMapOK, pcpMapOK[:pcpHeaderLen], {0, 129, 0, 1}, {}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParsePCPReply(b)
		if err == nil && r.Result == 0 && r.Op == pcpOpMap && (len(b) < pcpHeaderLen+pcpMapLen || !r.External.IsValid() || r.External.Is4In6()) {
			t.Fatalf("mapping %+v decoded from %d bytes", r, len(b))
		}
	})
}

func FuzzSSDPLocation(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nLOCATION: http://198.19.1.1:5000/rootDesc.xml\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		loc, err := ParseSSDPLocation(b)
		if err == nil && (loc.Scheme != "http" || loc.Host == "") {
			t.Fatalf("location %v accepted", loc)
		}
		if err == nil {
			onHost(loc, netip.MustParseAddr("198.19.1.1"))
		}
	})
}

func FuzzProcRoute(f *testing.F) {
	f.Add("Iface\tDestination\tGateway\tFlags\neth0\t00000000\t0113C6C6\t0003\n")
	f.Add("x\n\t00000000\t\t3")
	f.Fuzz(func(t *testing.T, s string) {
		gw, err := ParseProcRoute(strings.NewReader(s))
		if err == nil && (!gw.Is4() || gw.IsUnspecified()) {
			t.Fatalf("gateway %v", gw)
		}
	})
}

// FuzzPCPMapRoundTrip checks that a MAP request's fields survive as a
// response's.
func FuzzPCPMapRoundTrip(f *testing.F) {
	f.Add(uint16(4500), uint16(4501), []byte{198, 18, 0, 10})
	f.Fuzz(func(t *testing.T, in, ext uint16, ip []byte) {
		if len(ip) != 4 {
			return
		}
		a := netip.AddrFrom4([4]byte(ip))
		r, err := ParsePCPReply(pcpMapReply(0, [NonceLen]byte{7}, in, ext, a))
		if err != nil || r.InternalPort != in || r.ExternalPort != ext || r.External != a || !bytes.Equal(r.Nonce[:1], []byte{7}) {
			t.Fatalf("%+v, %v", r, err)
		}
	})
}
