package gateway

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// FuzzRegistration feeds any payload to the gateway's registration check,
// as any key can. What it accepts must be within the record limits and
// hold only canonical values, never the sender's own strings.
func FuzzRegistration(f *testing.F) {
	for _, reg := range []wire.Registration{
		{Local: []string{"198.19.1.10:4242"}, Mapping: wire.MappingIndependent, Filtering: wire.FilteringDependent},
		{Local: []string{"[::ffff:198.19.1.10]:4242", "[2001:db8::1]:9"}, Mapping: wire.Unknown},
		{Local: []string{"0.0.0.0:1", "224.0.0.1:5", "198.19.1.10:0"}},
		{Local: []string{strings.Repeat("1", 300)}},
		{Local: slices.Repeat([]string{"198.19.1.10:1"}, 9)},
		{Mapping: "full cone"},
		{Reflexive: []wire.Reflexive{{Addr: "[2001:db8::12]:4242", Token: []byte{1, 2, 3, 4, 5, 6, 7, 8}}, {Addr: "198.18.0.12:1"}}},
	} {
		b, err := wire.Encode(&reg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	tok, err := newTokens()
	if err != nil {
		f.Fatal(err)
	}
	g := &Gateway{cfg: Config{RegistrationTTL: 1}, tok: tok}
	g.cfg.Limits.populate()
	f.Fuzz(func(t *testing.T, b []byte) {
		m := &connector.Message{From: "n", Payload: b, Remote: netip.MustParseAddrPort("198.18.0.12:61542")}
		rec, err := g.record(0, m)
		if err != nil {
			return
		}
		if len(b) > DefaultMaxRecordBytes || len(rec.Local) > DefaultMaxLocalAddrs || len(rec.Reflexive) > wire.MaxReflexive {
			t.Fatalf("accepted %d bytes with %d local addresses", len(b), len(rec.Local))
		}
		for _, l := range rec.Local {
			ap, err := netip.ParseAddrPort(l)
			if err != nil || ap.String() != l || ap.Port() == 0 || ap.Addr().IsUnspecified() || ap.Addr().IsMulticast() {
				t.Fatalf("accepted local address %q", l)
			}
		}
		known := []string{"", wire.Unknown, wire.MappingIndependent, wire.MappingDependent, wire.FilteringDependent}
		if !slices.Contains(known, rec.Mapping) || !slices.Contains(known, rec.Filtering) {
			t.Fatalf("accepted NAT behaviour %q, %q", rec.Mapping, rec.Filtering)
		}
	})
}
