package gateway

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// TestReflexiveTokens checks which reflexive addresses a registration
// keeps: only those whose token the gateway minted for exactly that
// address, lately, in the family the registration's connection is not.
func TestReflexiveTokens(t *testing.T) {
	tok, err := newTokens()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	v4 := netip.MustParseAddrPort("198.18.0.12:4242")
	v4b := netip.MustParseAddrPort("198.18.0.13:4242")
	v6 := netip.MustParseAddrPort("[2001:db8::12]:4242")
	token := func(a netip.AddrPort, at time.Time) []byte { b := tok.mint(a, at); return b[:] }
	tests := []struct {
		name   string
		claims []wire.Reflexive
		remote netip.AddrPort
		want   []netip.AddrPort
	}{
		{"its own address", []wire.Reflexive{{Addr: v4.String(), Token: token(v4, now)}}, v6, []netip.AddrPort{v4}},
		{"last epoch's token", []wire.Reflexive{{Addr: v4.String(), Token: token(v4, now.Add(-tokenEpoch))}}, v6, []netip.AddrPort{v4}},
		{"a stale token", []wire.Reflexive{{Addr: v4.String(), Token: token(v4, now.Add(-2*tokenEpoch))}}, v6, nil},
		{"another address's token", []wire.Reflexive{{Addr: v4b.String(), Token: token(v4, now)}}, v6, nil},
		{"no token", []wire.Reflexive{{Addr: v4.String()}}, v6, nil},
		{"the connection's own family", []wire.Reflexive{{Addr: v4.String(), Token: token(v4, now)}}, v4b, nil},
		{"two of one family", []wire.Reflexive{{Addr: v4.String(), Token: token(v4, now)}, {Addr: v4b.String(), Token: token(v4b, now)}}, v6, []netip.AddrPort{v4}},
		{"a mapped address", []wire.Reflexive{{Addr: "[::ffff:198.18.0.12]:4242", Token: token(v4, now)}}, v6, []netip.AddrPort{v4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tok.reflexive(tt.claims, tt.remote, now)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// TestReflexiveBounds refuses more claims than MaxReflexive, and
// addresses that do not parse, as bad requests.
func TestReflexiveBounds(t *testing.T) {
	tok, err := newTokens()
	if err != nil {
		t.Fatal(err)
	}
	remote := netip.MustParseAddrPort("[2001:db8::12]:4242")
	for _, claims := range [][]wire.Reflexive{
		make([]wire.Reflexive, wire.MaxReflexive+1),
		{{Addr: "not an address"}},
	} {
		var re *connector.RemoteError
		if _, err := tok.reflexive(claims, remote, time.Now()); !errors.As(err, &re) || re.Code != connector.CodeBadRequest {
			t.Fatalf("%d claims: got %v, want a bad request", len(claims), err)
		}
	}
}
