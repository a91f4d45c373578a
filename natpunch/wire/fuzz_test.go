package wire

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// seedPackets returns one well-formed packet of every type, and the
// magic-only header of each, for the fuzzers' corpora.
func seedPackets() [][]byte {
	p := Probe{Txn: [TxnLen]byte{1, 2, 3}, Flags: ProbeFlagChange}
	r := ProbeResponse{
		Txn:      p.Txn,
		Observed: netip.MustParseAddrPort("198.18.0.12:61542"),
		Other:    netip.MustParseAddrPort("[2001:db8::1]:7443"),
	}
	seeds := [][]byte{
		p.Append(nil),
		r.Append(nil),
		(&ProbeResponse{Txn: p.Txn}).Append(nil),
		(&ProbeResponse{Txn: p.Txn, Observed: r.Observed, Token: [TokenLen]byte{1, 2, 3, 4, 5, 6, 7, 8}}).Append(nil),
		(&Probe{Txn: p.Txn, Flags: ProbeFlagToken}).Append(nil),
		AppendPunch(nil, []byte("12345678")),
		AppendRelay(nil, SessionID{9, 8, 7}, []byte{0xc0, 1, 2, 3}),
	}
	for _, typ := range []byte{PacketProbe, PacketProbeResponse, PacketPunch, PacketRelay, 0x3f, 0x40} {
		seeds = append(seeds, []byte{typ, Magic[0], Magic[1]})
	}
	return seeds
}

// addTruncations adds every seed and every prefix of it.
func addTruncations(f *testing.F, seeds [][]byte) {
	for _, s := range seeds {
		for n := range len(s) + 1 {
			f.Add(s[:n])
		}
	}
}

func FuzzParseProbe(f *testing.F) {
	addTruncations(f, seedPackets())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProbe(b)
		if err != nil {
			return
		}
		again, err := ParseProbe(p.Append(nil))
		if err != nil || again != p {
			t.Fatalf("probe %x: re-encoded parses as %+v, %v; want %+v", b, again, err, p)
		}
	})
}

func FuzzParseProbeResponse(f *testing.F) {
	addTruncations(f, seedPackets())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseProbeResponse(b)
		if err != nil {
			return
		}
		if len(b) > ProbeSize {
			t.Fatalf("accepted a probe response of %d bytes, larger than a probe", len(b))
		}
		again, err := ParseProbeResponse(r.Append(nil))
		if err != nil || again != r {
			t.Fatalf("response %x: re-encoded parses as %+v, %v; want %+v", b, again, err, r)
		}
	})
}

func FuzzParseRelay(f *testing.F) {
	addTruncations(f, seedPackets())
	f.Fuzz(func(t *testing.T, b []byte) {
		s, inner, err := ParseRelay(b)
		if err != nil {
			return
		}
		if len(inner) == 0 {
			t.Fatalf("relay packet %x: empty inner packet accepted", b)
		}
		if got := AppendRelay(nil, s, inner); !bytes.Equal(got, b) {
			t.Fatalf("relay packet %x re-encodes as %x", b, got)
		}
	})
}

// FuzzDispatch feeds any datagram to the demultiplexer of a gateway and a
// bridge: it must never panic, must count what it drops, and must hand
// each handler only packets that parse.
func FuzzDispatch(f *testing.F) {
	addTruncations(f, seedPackets())
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDemux(nil)
		txn := [TxnLen]byte{1, 2, 3}
		waiter := d.Expect(txn)
		handled := 0
		d.OnProbe = func(_ netip.AddrPort, p Probe) {
			handled++
			if _, err := ParseProbe(b); err != nil {
				t.Fatalf("probe handler got %x, which does not parse: %v", b, err)
			}
		}
		d.OnRelay = func(_ netip.AddrPort, _ SessionID, pkt []byte) {
			handled++
			if len(pkt) <= RelayOverhead || len(pkt) != len(b) {
				t.Fatalf("relay handler got %d bytes of a %d-byte packet", len(pkt), len(b))
			}
		}
		from := netip.MustParseAddrPort("[::ffff:198.18.0.12]:61542")
		d.Dispatch(from, b)
		select {
		case <-waiter:
			handled++
		default:
		}
		if counted := handled + int(d.Punches.Load()) + int(d.Dropped.Load()); counted != 1 {
			t.Fatalf("packet %x: handled %d, punches %d, dropped %d; want exactly one", b, handled, d.Punches.Load(), d.Dropped.Load())
		}
	})
}

// controlTypes are the control messages, each as a fresh value to decode
// into.
var controlTypes = []func() any{
	func() any { return new(Registration) },
	func() any { return new(Registered) },
	func() any { return new(NodeRequest) },
	func() any { return new(PeerInfo) },
	func() any { return new(PunchPlan) },
	func() any { return new(RelayGrant) },
	func() any { return new(FleetAsk) },
	func() any { return new(FleetAnswer) },
}

// FuzzDecodeControl decodes any payload as every control message, as
// gateways and bridges do with what peers send them. What decodes must
// survive a round trip unchanged.
func FuzzDecodeControl(f *testing.F) {
	seeds := []any{
		&Registration{Local: []string{"198.19.1.10:4242"}, Mapping: MappingIndependent, Filtering: FilteringDependent},
		&Registration{Local: []string{"[2001:db8:1::10]:4242"}, Reflexive: []Reflexive{{Addr: "198.18.0.12:61542", Token: []byte{1, 2, 3, 4, 5, 6, 7, 8}}}},
		&PeerInfo{Node: "n", Observed: "[2001:db8::13]:41811", Reflexive: []string{"198.18.0.13:41811"}},
		&PunchPlan{Node: "n", Observed: "[2001:db8::13]:41811", Reflexive: []string{"198.18.0.13:41811"}},
		&Registered{Observed: "198.18.0.12:61542", Others: []string{"198.18.0.11:7443"}},
		&NodeRequest{Node: "qrciqwke"},
		&PeerInfo{Node: "n", Observed: "198.18.0.13:41811", Local: []string{"198.19.2.10:1"}},
		&PunchPlan{Node: "n", Observed: "198.18.0.13:41811", Addrs: []string{"198.18.0.13:41811"}, Dial: true, DelayMs: 12},
		&RelayGrant{Node: "n", Session: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		&FleetAsk{From: "n", Peer: &PeerInfo{Node: "m", Observed: "198.18.0.13:41811"}, StartMs: 40, Session: []byte{1, 2}, RelayFrom: "198.18.0.2:9444"},
		&FleetAnswer{Peer: PeerInfo{Node: "n"}, Home: "h", HomeAddr: "198.18.0.3:9444", RTTMs: 3, AskerDials: true, Since: 1764990000123456789},
		&FleetAsk{From: "n", Peer: &PeerInfo{Node: "n", Observed: "[2001:db8::13]:41811", Mapped: "198.51.100.7:6000", Reflexive: []string{"198.18.0.13:41811"}}, StartMs: 40},
		&FleetAnswer{Peer: PeerInfo{Node: "m", Observed: "[2001:db8::14]:41812", Mapped: "198.51.100.8:6000", Reflexive: []string{"198.18.0.14:41812"}}, Home: "h", HomeAddr: "198.18.0.3:9444"},
	}
	for _, v := range seeds {
		b, err := Encode(v)
		if err != nil {
			f.Fatal(err)
		}
		for n := range len(b) + 1 {
			f.Add(b[:n])
		}
	}
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff}) // an array claiming 4 G elements
	f.Add([]byte{0xdf, 0xff, 0xff, 0xff, 0xff}) // a map claiming 4 G entries
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, mk := range controlTypes {
			v := mk()
			if err := Decode(b, v); err != nil {
				continue
			}
			enc, err := msgpack.Marshal(v)
			if err != nil {
				t.Fatalf("%T decoded from %x does not encode: %v", v, b, err)
			}
			again := mk()
			if err := Decode(enc, again); err != nil || !reflect.DeepEqual(normalize(v), normalize(again)) {
				t.Fatalf("%T from %x: round trip gives %+v, %v; want %+v", v, b, again, err, v)
			}
		}
	})
}

// normalize makes empty and nil slices compare equal: msgpack may turn one
// into the other.
func normalize(v any) any {
	rv := reflect.ValueOf(v).Elem()
	out := reflect.New(rv.Type()).Elem()
	out.Set(rv)
	for i := range out.NumField() {
		if fv := out.Field(i); fv.Kind() == reflect.Slice && fv.Len() == 0 {
			fv.Set(reflect.Zero(fv.Type()))
		}
	}
	return out.Interface()
}
