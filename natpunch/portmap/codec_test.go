package portmap

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// Replies miniupnpd 2.3.1 sent, and well-formed ones built by hand.
var (
	pmpExternalOK = mustHex("0080000000002852c6120a0a")
	pmpMapOK      = mustHex("00810000000028521194119400001c20")
	pmpMapFailed  = mustHex("00810003000028521194119400001c20")
	pcpMapOK      = pcpMapReply(0, [NonceLen]byte{1, 2, 3}, 4500, 4501, netip.MustParseAddr("198.18.0.10"))
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// pcpMapReply builds a MAP response.
func pcpMapReply(result uint8, nonce [NonceLen]byte, internal, external uint16, ext netip.Addr) []byte {
	req := AppendPCPMap(nil, ext, nonce, internal, external, 7200)
	req[1] |= pcpReplyBit
	req[2], req[3] = 0, result
	copy(req[8:24], make([]byte, 16)) // epoch and reserved
	a := ext.As16()
	copy(req[pcpHeaderLen+20:], a[:])
	return req
}

func TestPMPRoundTrip(t *testing.T) {
	if got := AppendPMPMapRequest(nil, 4500, 4500, 7200); !bytes.Equal(got, mustHex("000100001194119400001c20")) {
		t.Errorf("map request %x", got)
	}
	r, err := ParsePMPReply(pmpExternalOK)
	if err != nil || r.External != netip.MustParseAddr("198.18.10.10") || r.Err() != nil {
		t.Errorf("external reply: %+v, %v", r, err)
	}
	r, err = ParsePMPReply(pmpMapOK)
	if err != nil || r.InternalPort != 4500 || r.ExternalPort != 4500 || r.Lifetime != 7200 {
		t.Errorf("map reply: %+v, %v", r, err)
	}
	r, err = ParsePMPReply(pmpMapFailed)
	if err != nil || !errors.Is(r.Err(), ErrRefused) || errors.Is(r.Err(), ErrNoRouter) {
		t.Errorf("failed map reply: %+v, %v", r, err)
	}
}

func TestPCPRoundTrip(t *testing.T) {
	req := AppendPCPMap(nil, netip.MustParseAddr("198.19.1.10"), [NonceLen]byte{9}, 4500, 0, 7200)
	if len(req) != pcpHeaderLen+pcpMapLen || req[0] != 2 || req[1] != 1 || !strings.HasSuffix(hex.EncodeToString(req[8:24]), "ffffc613010a") {
		t.Errorf("map request %x", req)
	}
	r, err := ParsePCPReply(pcpMapOK)
	if err != nil || r.Op != pcpOpMap || r.ExternalPort != 4501 || r.External != netip.MustParseAddr("198.18.0.10") || r.Nonce != [NonceLen]byte{1, 2, 3} {
		t.Errorf("map reply: %+v, %v", r, err)
	}
	// A NAT-PMP router's answer to a PCP request: not offered.
	r, err = ParsePCPReply(mustHex("0081000100000000"))
	if err != nil || !errors.Is(r.Err(), ErrNoRouter) {
		t.Errorf("NAT-PMP answer to PCP: %+v, %v", r, err)
	}
	// An error answer may stop after the header.
	r, err = ParsePCPReply(pcpMapReply(8, [NonceLen]byte{}, 1, 1, netip.IPv4Unspecified())[:pcpHeaderLen])
	if err != nil || !errors.Is(r.Err(), ErrRefused) {
		t.Errorf("short error answer: %+v, %v", r, err)
	}
}

// TestTruncated feeds every prefix of valid replies: each decodes
// cleanly or fails with ErrTruncated, never panics or half-decodes.
func TestTruncated(t *testing.T) {
	for _, b := range [][]byte{pmpExternalOK, pmpMapOK} {
		for n := range len(b) {
			if _, err := ParsePMPReply(b[:n]); !errors.Is(err, ErrTruncated) {
				t.Errorf("NAT-PMP %x: %v, want ErrTruncated", b[:n], err)
			}
		}
	}
	for n := range len(pcpMapOK) {
		if _, err := ParsePCPReply(pcpMapOK[:n]); !errors.Is(err, ErrTruncated) {
			t.Errorf("PCP prefix of %d bytes: %v, want ErrTruncated", n, err)
		}
	}
}

func TestOdd(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"NAT-PMP request", mustHex("000100001194119400001c20")},
		{"NAT-PMP version 1", mustHex("0180000000002852c6120a0a")},
		{"NAT-PMP opcode 130", mustHex("0082000000002852c6120a0a")},
	} {
		if _, err := ParsePMPReply(tc.b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", tc.name, err)
		}
	}
	req := AppendPCPMap(nil, netip.MustParseAddr("198.19.1.10"), [NonceLen]byte{}, 1, 1, 1)
	v3 := bytes.Clone(pcpMapOK)
	v3[0] = 3
	op9 := bytes.Clone(pcpMapOK)
	op9[1] = pcpReplyBit | 9
	for _, b := range [][]byte{req, v3, op9} {
		if _, err := ParsePCPReply(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("PCP %x: %v, want ErrMalformed", b[:4], err)
		}
	}
}

func TestSSDPLocation(t *testing.T) {
	ok := "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nLOCATION: http://198.19.1.1:5000/rootDesc.xml\r\n\r\n"
	loc, err := ParseSSDPLocation([]byte(ok))
	if err != nil || !onHost(loc, netip.MustParseAddr("198.19.1.1")) || onHost(loc, netip.MustParseAddr("198.19.1.2")) {
		t.Errorf("location %v, %v", loc, err)
	}
	for _, bad := range []string{"", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 404 No\r\nLOCATION: http://a/\r\n\r\n", "HTTP/1.1 200 OK\r\nLOCATION: file:///etc/passwd\r\n\r\n", "NOTIFY * HTTP/1.1\r\n\r\n"} {
		if _, err := ParseSSDPLocation([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v, want ErrMalformed", bad, err)
		}
	}
}

func TestProcRoute(t *testing.T) {
	table := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t0013C6C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
		"eth0\t00000000\t0113C6C6\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	gw, err := ParseProcRoute(strings.NewReader(table))
	if err != nil || gw != netip.MustParseAddr("198.198.19.1") {
		t.Errorf("gateway %v, %v", gw, err)
	}
	for _, bad := range []string{"", "Iface\n", "Iface\neth0\t00000000\t0113C6C6\t0001\n", "Iface\neth0\t00000000\tzz\t0003\n"} {
		if _, err := ParseProcRoute(strings.NewReader(bad)); !errors.Is(err, ErrNoGateway) {
			t.Errorf("%q: %v, want ErrNoGateway", bad, err)
		}
	}
}

func TestOffersString(t *testing.T) {
	for _, tc := range []struct {
		o    Offers
		want string
	}{{Offers{}, "none"}, {Offers{UPnP: true, NATPMP: true, PCP: true}, "UPnP, NAT-PMP, PCP"}, {Offers{PCP: true}, "PCP"}} {
		if got := tc.o.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.o, got, tc.want)
		}
	}
}
