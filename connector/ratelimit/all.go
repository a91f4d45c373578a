package ratelimit

import (
	"time"

	"golang.org/x/time/rate"
)

// Take is N tokens from bucket L; a nil L always has them.
type Take struct {
	L *rate.Limiter
	N int
}

// AllowAll takes every Take's tokens at now, or none of them: a bucket
// that refuses leaves the earlier ones as they were, so a packet or request
// refused by one bound costs nothing against the others.
func AllowAll(now time.Time, takes ...Take) bool {
	var held [4]*rate.Reservation
	done := held[:0]
	for _, t := range takes {
		if t.L == nil {
			continue
		}
		r := t.L.ReserveN(now, t.N)
		if !r.OK() || r.DelayFrom(now) > 0 {
			r.CancelAt(now)
			for _, d := range done {
				d.CancelAt(now)
			}
			return false
		}
		done = append(done, r)
	}
	return true
}
