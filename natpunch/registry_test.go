package natpunch

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

func TestRegistryCapReplaceAndSweep(t *testing.T) {
	r := newRegistry(2)
	t0 := time.Unix(1000, 0)
	put := func(id identity.NodeID, expires time.Time) error {
		return r.put(record{id: id, expires: expires})
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

func TestRegistrationChecks(t *testing.T) {
	g := &Gateway{cfg: GatewayConfig{RegistrationTTL: time.Minute}}
	g.cfg.Limits.populate()
	for _, tc := range []struct {
		name string
		reg  registration
		code int
	}{
		{"too many addresses", registration{Local: slices.Repeat([]string{"198.19.1.10:1"}, 9)}, connector.CodeBadRequest},
		{"too large", registration{Local: []string{strings.Repeat("1", 2000)}}, connector.CodeTooLarge},
		{"not an address", registration{Local: []string{"example.com:80"}}, connector.CodeBadRequest},
		{"port 0", registration{Local: []string{"198.19.1.10:0"}}, connector.CodeBadRequest},
		{"multicast", registration{Local: []string{"224.0.0.1:5"}}, connector.CodeBadRequest},
		{"unknown NAT words", registration{Mapping: "full cone"}, connector.CodeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := encode(&tc.reg)
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
	g := &Gateway{cfg: GatewayConfig{RegistrationTTL: time.Minute}}
	g.cfg.Limits.populate()
	b, err := encode(&registration{Local: []string{"[::ffff:198.19.1.10]:4242"}, Mapping: MappingDependent, Filtering: FilteringIndependent})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := g.record(1, &connector.Message{From: "n", Payload: b, Remote: netip.MustParseAddrPort("198.18.0.12:61542")})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.local) != 1 || rec.local[0] != "198.19.1.10:4242" || rec.via != 1 || !rec.symmetric() || !rec.open() {
		t.Fatalf("record %+v", rec)
	}
}
