package ratelimit

import (
	"errors"
	"net/netip"
	"testing"
	"time"
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

func TestWarnings(t *testing.T) {
	var w Warnings
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at      time.Duration
		ok      bool
		dropped int
	}{
		{0, true, 0},
		{time.Second, false, 0},
		{9 * time.Second, false, 0},
		{10 * time.Second, true, 2},
		{11 * time.Second, false, 0},
		{30 * time.Second, true, 1},
	}
	for i, s := range steps {
		dropped, ok := w.Allow(t0.Add(s.at), 10*time.Second)
		if ok != s.ok || dropped != s.dropped {
			t.Errorf("step %d at %v: allow = %d, %v; want %d, %v", i, s.at, dropped, ok, s.dropped, s.ok)
		}
	}
}
