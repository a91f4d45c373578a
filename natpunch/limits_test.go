package natpunch

import (
	"fmt"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
)

func TestKeyLimiterBucketPerKeyAndTotal(t *testing.T) {
	now := time.Unix(1000, 0)
	k := newKeyLimiter(Rate{PerSecond: 1, Burst: 2}, Rate{PerSecond: 1, Burst: 3}.limiter(), 10)
	got := []bool{k.allow("a", now), k.allow("a", now), k.allow("a", now), k.allow("b", now), k.allow("c", now)}
	want := []bool{true, true, false, true, false} // a's burst, then the total's
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("allowed %v, want %v", got, want)
	}
	if !k.allow("a", now.Add(time.Second)) {
		t.Error("a's bucket did not refill")
	}
}

func TestKeyLimiterTableIsBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	k := newKeyLimiter(Rate{PerSecond: 1, Burst: 1}, unlimited(), 3)
	for i := range 3 {
		if !k.allow(identity.NodeID(fmt.Sprint(i)), now) {
			t.Fatalf("key %d refused", i)
		}
	}
	if k.allow("new", now) || k.size() != 3 {
		t.Fatalf("a fourth key was let in while every row was in use: %d rows", k.size())
	}
	// Once the rows' buckets are full again they are as good as new ones.
	if !k.allow("new", now.Add(2*time.Second)) || k.size() != 1 {
		t.Fatalf("refilled rows were not dropped: %d rows", k.size())
	}
}
