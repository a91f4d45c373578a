package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// KeyLimiter gives every key (a node ID, or a pair of them) a token bucket, in a table of at most
// maxKeys rows, and draws from one more bucket for all of them together. A
// row whose bucket has refilled is as good as a new one, so a full table
// drops those; a table still full refuses new keys rather than grow.
//
// A token is taken only when every bucket it needs has one: a refusal by
// the shared bucket does not spend the key's own token, so one key's
// refusals cannot eat into its later allowance.
type KeyLimiter[K comparable] struct {
	each    Rate
	maxKeys int

	total *rate.Limiter // has its own lock; may be shared between tables

	mu        sync.Mutex // guards keys and lastSweep
	keys      map[K]*rate.Limiter
	lastSweep time.Time
}

// NewKeyLimiter returns a table of buckets of rate each for at most
// maxKeys keys, all drawing from total as well; total may be shared
// between tables, and nil means no shared bound.
func NewKeyLimiter[K comparable](each Rate, total *rate.Limiter, maxKeys int) *KeyLimiter[K] {
	if total == nil {
		total = Unlimited.Limiter()
	}
	return &KeyLimiter[K]{each: each, maxKeys: maxKeys, total: total, keys: make(map[K]*rate.Limiter)}
}

// Allow takes a token from id's bucket and from the total, and reports
// whether both had one. When either refuses, neither is spent.
func (k *KeyLimiter[K]) Allow(id K, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	l := k.keys[id]
	if l == nil {
		if len(k.keys) >= k.maxKeys && !k.sweepLocked(now) {
			return false
		}
		l = k.each.Limiter()
		k.keys[id] = l
	}
	return allowBoth(l, k.total, now)
}

// allowBoth takes one token from a and one from b, or none.
func allowBoth(a, b *rate.Limiter, now time.Time) bool {
	return AllowAll(now, Take{a, 1}, Take{b, 1})
}

// sweepLocked drops the rows whose buckets are full again, at most once a
// second, and reports whether there is room for a new row.
func (k *KeyLimiter[K]) sweepLocked(now time.Time) bool {
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

// Size returns the number of rows.
func (k *KeyLimiter[K]) Size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keys)
}
