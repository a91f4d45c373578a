package identity

import (
	"errors"
	"strings"
	"testing"
)

func TestParseNodeID(t *testing.T) {
	id, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	good := string(id.NodeID())
	last := strings.IndexByte(nodeIDAlphabet, good[len(good)-1])
	spelling := func(low int) string { return good[:len(good)-1] + string(nodeIDAlphabet[last|low]) }
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"valid", good, true},
		{"upper case", strings.ToUpper(good), true},
		{"surrounding space", " " + good + "\n", true},
		{"too short", good[1:], false},
		{"too long", good + "a", false},
		{"outside the alphabet", "1" + good[1:], false},
		{"padding", good[:len(good)-1] + "=", false},
		{"newline inside", good[:10] + "\n" + good[11:], false},
		{"empty", "", false},
		{"lowest unused bit set", spelling(1), false},
		{"highest unused bit set", spelling(8), false},
		{"every unused bit set", spelling(15), false},
		{"unused bits set, upper case", strings.ToUpper(spelling(4)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNodeID(tt.in)
			if (err == nil) != tt.ok || (tt.ok && string(got) != good) || (!tt.ok && !errors.Is(err, ErrInvalidNodeID)) {
				t.Fatalf("ParseNodeID(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

// FuzzParseNodeID checks that ParseNodeID never panics and that an ID it
// accepts is the one spelling of its key.
func FuzzParseNodeID(f *testing.F) {
	id, err := Generate()
	if err != nil {
		f.Fatal(err)
	}
	good := string(id.NodeID())
	f.Add(good)
	f.Add(strings.ToUpper(good))
	f.Add(good[:len(good)-1] + "7")
	f.Add(good[:len(good)-1] + "b")
	f.Add(good[1:])
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseNodeID(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidNodeID) {
				t.Fatalf("ParseNodeID(%q) = %v, which does not match ErrInvalidNodeID", s, err)
			}
			return
		}
		pub, err := got.PublicKey()
		if err != nil {
			t.Fatalf("ParseNodeID(%q) accepted %q, whose PublicKey fails: %v", s, got, err)
		}
		if canon := NodeIDFromPublicKey(pub); canon != got {
			t.Fatalf("ParseNodeID(%q) accepted %q, but its key's ID is %q", s, got, canon)
		}
	})
}
