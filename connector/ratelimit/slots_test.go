package ratelimit

import (
	"errors"
	"net/netip"
	"testing"
)

func TestSlots(t *testing.T) {
	s := NewSlots[string](3, 2)
	for _, step := range []struct {
		key  string
		want error
	}{{"a", nil}, {"a", nil}, {"a", ErrKeyFull}, {"b", nil}, {"c", ErrFull}} {
		if err := s.Take(step.key); !errors.Is(err, step.want) {
			t.Fatalf("Take(%q) = %v, want %v", step.key, err, step.want)
		}
	}
	s.Give("a")
	if err := s.Take("c"); err != nil || s.Load() != 3 {
		t.Fatalf("after a slot came back: %v, %d held", err, s.Load())
	}
}

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"198.18.0.7":              "198.18.0.7",
		"::ffff:198.18.0.7":       "198.18.0.7",
		"2001:db8:1:2:3:4:5:6":    "2001:db8:1:2::",
		"2001:db8:1:2:ffff::9999": "2001:db8:1:2::",
	} {
		if got := IPKey(netip.MustParseAddr(in)); got.String() != want {
			t.Errorf("IPKey(%s) = %s, want %s", in, got, want)
		}
	}
}
