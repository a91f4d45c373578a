package wire

import (
	"strings"
	"testing"
)

// FuzzParseReflexive parses a peer's reflexive addresses as a bridge does
// from a lookup or a punch plan (a list of strings; here split at ","):
// never more than MaxReflexive, each valid, unmapped and with a port.
func FuzzParseReflexive(f *testing.F) {
	for _, s := range []string{"198.18.0.13:41811", "[2001:db8::13]:1,198.18.0.1:2,198.18.0.2:3", "[::ffff:198.18.0.1]:9", "x,,:0", "[::]:0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ParseReflexive(strings.Split(s, ","))
		if len(got) > MaxReflexive {
			t.Fatalf("%q: %d addresses, at most %d", s, len(got), MaxReflexive)
		}
		for _, ap := range got {
			if !ap.IsValid() || ap.Port() == 0 || ap.Addr().Is4In6() {
				t.Fatalf("%q: kept %v", s, ap)
			}
		}
	})
}
