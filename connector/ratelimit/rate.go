package ratelimit

import (
	"fmt"
	"math"

	"golang.org/x/time/rate"
)

// Rate is a token bucket: PerSecond events a second on average, in bursts
// of at most Burst (at least 1). A negative PerSecond means unlimited; the
// zero Rate means "use the default" wherever a config holds one.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Unlimited is a Rate that never refuses.
var Unlimited = Rate{PerSecond: -1, Burst: 1}

// OrDefault returns r, or d if r is the zero Rate.
func (r Rate) OrDefault(d Rate) Rate {
	if r == (Rate{}) {
		return d
	}
	return r
}

// IsUnlimited reports whether r never refuses.
func (r Rate) IsUnlimited() bool { return r.PerSecond < 0 }

// Validate reports a Rate that cannot be a bucket: a rate that is not a
// number, or a negative burst.
func (r Rate) Validate() error {
	if math.IsNaN(r.PerSecond) || math.IsInf(r.PerSecond, 1) || r.Burst < 0 {
		return fmt.Errorf("ratelimit: invalid rate %v/s, burst %d", r.PerSecond, r.Burst)
	}
	return nil
}

// Limit is r's rate for golang.org/x/time/rate.
func (r Rate) Limit() rate.Limit {
	if r.IsUnlimited() {
		return rate.Inf
	}
	return rate.Limit(r.PerSecond)
}

// Limiter returns a new, full bucket of rate r.
func (r Rate) Limiter() *rate.Limiter { return rate.NewLimiter(r.Limit(), max(r.Burst, 1)) }

// String reads as the flags that set a Rate do: "unlimited" or "N/s, burst B".
func (r Rate) String() string {
	if r.IsUnlimited() {
		return "unlimited"
	}
	return fmt.Sprintf("%g/s, burst %d", r.PerSecond, max(r.Burst, 1))
}
