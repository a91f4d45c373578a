package gateway

import (
	"testing"
	"time"
)

// TestRemotePunchDelay: the asker's gateway sets the asker's delay so
// that it starts when the home's node does, given the ask's round trip,
// the home's round-trip time to its node and the asker's to this gateway.
func TestRemotePunchDelay(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name                           string
		round, start, rttA, rttB, want time.Duration
	}{
		{"loopback", 2 * ms, 50 * ms, 0, 0, 49 * ms},
		{"b far: b starts on arrival", 210 * ms, 60 * ms, 10 * ms, 200 * ms, 0},
		{"a far: its answer takes long", 42 * ms, 150 * ms, 100 * ms, 20 * ms, 69 * ms},
		{"late answer: no negative wait", time.Second, 50 * ms, 0, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := remotePunchDelay(c.round, c.start, c.rttA, c.rttB); got != c.want {
				t.Fatalf("remotePunchDelay(%v, %v, %v, %v) = %v, want %v", c.round, c.start, c.rttA, c.rttB, got, c.want)
			}
		})
	}
}
