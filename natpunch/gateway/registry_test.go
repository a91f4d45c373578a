package gateway

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

func TestRegistryCapReplaceAndSweep(t *testing.T) {
	r := newRegistry(2, 2)
	t0 := time.Unix(1000, 0)
	put := func(id identity.NodeID, expires time.Time) error {
		return r.put(record{Record: wire.Record{ID: id}, expires: expires})
	}
	if put("a", t0.Add(time.Second)) != nil || put("b", t0.Add(time.Minute)) != nil {
		t.Fatal("registering under the cap failed")
	}
	if err := put("c", t0.Add(time.Minute)); !errors.Is(err, errRegistryFull) || r.refused.Load() != 1 {
		t.Fatalf("a third node in a registry of two: %v, %d refusals counted", err, r.refused.Load())
	}
	if err := put("a", t0.Add(time.Second)); err != nil || r.size() != 2 {
		t.Fatalf("re-registering: %v, %d records", err, r.size())
	}
	if n := r.sweep(t0.Add(2 * time.Second)); n != 1 || r.size() != 1 || r.expired.Load() != 1 {
		t.Fatalf("swept %d, %d left, %d counted", n, r.size(), r.expired.Load())
	}
	if put("c", t0.Add(time.Minute)) != nil {
		t.Error("the swept record's room was not reused")
	}
}

// TestRegistryBoundsEachIP is issue 18, row 8: fresh keys from one address
// filled the registry. One address holds at most its share; another
// address, and a node re-registering, still get in; a record dropped with
// its connection frees its place.
func TestRegistryBoundsEachIP(t *testing.T) {
	r := newRegistry(100, 2)
	expires := time.Unix(2000, 0)
	attacker, other := netip.MustParseAddr("198.18.0.66"), netip.MustParseAddr("198.18.0.7")
	put := func(id identity.NodeID, ip netip.Addr) error {
		return r.put(record{Record: wire.Record{ID: id}, ip: ip, expires: expires})
	}
	for i := range 50 {
		put(identity.NodeID(fmt.Sprint("k", i)), attacker)
	}
	if r.size() != 2 || r.refusedIP.Load() != 48 {
		t.Fatalf("one address holds %d records, %d refused; want 2 and 48", r.size(), r.refusedIP.Load())
	}
	if err := put("legit", other); err != nil {
		t.Fatalf("a bridge at another address was refused: %v", err)
	}
	if err := put("k0", attacker); err != nil {
		t.Fatalf("re-registering at the same address was refused: %v", err)
	}
	if r.drop("k0", 0, netip.MustParseAddrPort("198.18.0.66:9")) {
		t.Fatal("a record made through another connection was dropped")
	}
	if !r.drop("k0", 0, netip.AddrPort{}) || r.drop("k0", 0, netip.AddrPort{}) {
		t.Fatal("drop did not delete the record exactly once")
	}
	if err := put("k2", attacker); err != nil || r.gone.Load() != 1 {
		t.Fatalf("the dropped record's place was not freed: %v", err)
	}
}

func TestRegistrationChecks(t *testing.T) {
	g := &Gateway{cfg: Config{RegistrationTTL: time.Minute}}
	g.cfg.Limits.populate()
	for _, tc := range []struct {
		name string
		reg  wire.Registration
		code int
	}{
		{"too many addresses", wire.Registration{Local: slices.Repeat([]string{"198.19.1.10:1"}, 9)}, connector.CodeBadRequest},
		{"too large", wire.Registration{Local: []string{strings.Repeat("1", 2000)}}, connector.CodeTooLarge},
		{"not an address", wire.Registration{Local: []string{"example.com:80"}}, connector.CodeBadRequest},
		{"port 0", wire.Registration{Local: []string{"198.19.1.10:0"}}, connector.CodeBadRequest},
		{"multicast", wire.Registration{Local: []string{"224.0.0.1:5"}}, connector.CodeBadRequest},
		{"unknown NAT words", wire.Registration{Mapping: "full cone"}, connector.CodeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := wire.Encode(&tc.reg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = g.record(0, &connector.Message{From: "n", Payload: b})
			var re *connector.RemoteError
			if !errors.As(err, &re) || re.Code != tc.code {
				t.Fatalf("got %v, want code %d", err, tc.code)
			}
		})
	}
}

func TestRegistrationIsStoredCanonically(t *testing.T) {
	g := &Gateway{cfg: Config{RegistrationTTL: time.Minute}}
	g.cfg.Limits.populate()
	b, err := wire.Encode(&wire.Registration{Local: []string{"[::ffff:198.19.1.10]:4242"}, Mapping: wire.MappingDependent, Filtering: wire.FilteringIndependent})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := g.record(1, &connector.Message{From: "n", Payload: b, Remote: netip.MustParseAddrPort("198.18.0.12:61542")})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Local) != 1 || rec.Local[0] != "198.19.1.10:4242" || rec.via != 1 || !rec.Symmetric() || !rec.Open() {
		t.Fatalf("record %+v", rec)
	}
}
