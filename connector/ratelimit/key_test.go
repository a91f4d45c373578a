package ratelimit

import (
	"fmt"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
)

func TestKeyLimiterBucketPerKeyAndTotal(t *testing.T) {
	now := time.Unix(1000, 0)
	k := NewKeyLimiter[identity.NodeID](Rate{PerSecond: 1, Burst: 2}, Rate{PerSecond: 1, Burst: 3}.Limiter(), 10)
	got := []bool{k.Allow("a", now), k.Allow("a", now), k.Allow("a", now), k.Allow("b", now), k.Allow("c", now)}
	want := []bool{true, true, false, true, false} // a's burst, then the total's
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("allowed %v, want %v", got, want)
	}
	if !k.Allow("a", now.Add(time.Second)) {
		t.Error("a's bucket did not refill")
	}
}

// A refusal by the shared bucket leaves the key's own token in place.
func TestKeyLimiterRefusalSpendsNothing(t *testing.T) {
	now := time.Unix(1000, 0)
	total := Rate{PerSecond: 1, Burst: 1}.Limiter()
	k := NewKeyLimiter[identity.NodeID](Rate{PerSecond: 0.001, Burst: 2}, total, 10)
	if !k.Allow("other", now) {
		t.Fatal("first key refused")
	}
	for range 5 {
		if k.Allow("a", now) {
			t.Fatal("the total was empty but a was allowed")
		}
	}
	later := now.Add(time.Second) // the total refilled; a's own bucket did not
	if !k.Allow("a", later) || !k.Allow("a", later.Add(time.Second)) {
		t.Fatal("refusals by the total spent a's own tokens")
	}
}

func TestKeyLimiterTableIsBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	k := NewKeyLimiter[identity.NodeID](Rate{PerSecond: 1, Burst: 1}, nil, 3)
	for i := range 3 {
		if !k.Allow(identity.NodeID(fmt.Sprint(i)), now) {
			t.Fatalf("key %d refused", i)
		}
	}
	if k.Allow("new", now) || k.Size() != 3 {
		t.Fatalf("a fourth key was let in while every row was in use: %d rows", k.Size())
	}
	// Once the rows' buckets are full again they are as good as new ones.
	if !k.Allow("new", now.Add(2*time.Second)) || k.Size() != 1 {
		t.Fatalf("refilled rows were not dropped: %d rows", k.Size())
	}
}

func TestRate(t *testing.T) {
	tests := []struct {
		r       Rate
		str     string
		invalid bool
	}{
		{Rate{PerSecond: 2, Burst: 10}, "2/s, burst 10", false},
		{Unlimited, "unlimited", false},
		{Rate{PerSecond: 1, Burst: -1}, "1/s, burst 1", true},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.str {
			t.Errorf("%#v.String() = %q, want %q", tt.r, got, tt.str)
		}
		if got := tt.r.Validate() != nil; got != tt.invalid {
			t.Errorf("%#v.Validate() failed = %v, want %v", tt.r, got, tt.invalid)
		}
	}
	if got := (Rate{}).OrDefault(Rate{PerSecond: 3, Burst: 4}); got != (Rate{PerSecond: 3, Burst: 4}) {
		t.Errorf("zero rate's default = %v", got)
	}
	if !Unlimited.Limiter().AllowN(time.Now(), 1_000_000) {
		t.Error("unlimited bucket refused")
	}
}

func TestAllowAllTakesAllOrNone(t *testing.T) {
	now := time.Unix(1000, 0)
	a, b := Rate{PerSecond: 0.001, Burst: 3}.Limiter(), Rate{PerSecond: 0.001, Burst: 1}.Limiter()
	if !AllowAll(now, Take{a, 1}, Take{b, 1}, Take{nil, 5}) {
		t.Fatal("first take refused")
	}
	for range 3 {
		if AllowAll(now, Take{a, 1}, Take{b, 1}) {
			t.Fatal("b was empty but the take was allowed")
		}
	}
	if got := a.TokensAt(now); got < 1.99 {
		t.Fatalf("a holds %.2f tokens after refusals by b, want 2", got)
	}
}
