package natpunch

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// Rate is a token bucket: PerSecond events a second on average, in bursts
// of at most Burst (at least 1). A negative PerSecond means unlimited.
type Rate struct {
	PerSecond float64
	Burst     int
}

// orDefault returns r, or d if r is zero.
func (r Rate) orDefault(d Rate) Rate {
	if r == (Rate{}) {
		return d
	}
	return r
}

func (r Rate) limit() rate.Limit {
	if r.PerSecond < 0 {
		return rate.Inf
	}
	return rate.Limit(r.PerSecond)
}

func (r Rate) limiter() *rate.Limiter { return rate.NewLimiter(r.limit(), max(r.Burst, 1)) }

// keyLimiter gives every node ID a token bucket, in a table of at most
// maxKeys rows, and draws from one more bucket for all of them together. A
// row whose bucket has refilled is as good as a new one, so full tables
// drop those; a table still full refuses new keys rather than grow.
type keyLimiter struct {
	each    Rate
	maxKeys int

	total *rate.Limiter // has its own lock

	mu        sync.Mutex // guards keys and lastSweep
	keys      map[identity.NodeID]*rate.Limiter
	lastSweep time.Time
}

// newKeyLimiter returns a table of buckets each for at most maxKeys keys,
// all drawing from total as well; total may be shared between tables.
func newKeyLimiter(each Rate, total *rate.Limiter, maxKeys int) *keyLimiter {
	return &keyLimiter{each: each, maxKeys: maxKeys, total: total, keys: make(map[identity.NodeID]*rate.Limiter)}
}

// unlimited is a bucket that always has a token.
func unlimited() *rate.Limiter { return rate.NewLimiter(rate.Inf, 1) }

// allow takes a token from id's bucket and from the total, and reports
// whether both had one.
func (k *keyLimiter) allow(id identity.NodeID, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	l := k.keys[id]
	if l == nil {
		if len(k.keys) >= k.maxKeys && !k.sweepLocked(now) {
			return false
		}
		l = k.each.limiter()
		k.keys[id] = l
	}
	return l.AllowN(now, 1) && k.total.AllowN(now, 1)
}

// sweepLocked drops the rows whose buckets are full again, at most once a
// second, and reports whether there is room for a new row.
func (k *keyLimiter) sweepLocked(now time.Time) bool {
	if now.Sub(k.lastSweep) >= time.Second {
		k.lastSweep = now
		for id, l := range k.keys {
			if l.TokensAt(now) >= float64(l.Burst()) {
				delete(k.keys, id)
			}
		}
	}
	return len(k.keys) < k.maxKeys
}

// size returns the number of rows.
func (k *keyLimiter) size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keys)
}
