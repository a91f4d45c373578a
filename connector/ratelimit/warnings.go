package ratelimit

import (
	"sync"
	"time"
)

// Warnings lets one warning through per interval and counts the others, so
// that a flood (of refusals, of drops) cannot flood the log. The zero value
// is ready to use.
type Warnings struct {
	mu   sync.Mutex // guards next and held
	next time.Time
	held int
}

// Allow reports whether to warn now, at most once every interval, and how
// many warnings were held back since the last one.
func (w *Warnings) Allow(now time.Time, every time.Duration) (held int, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now.Before(w.next) {
		w.held++
		return 0, false
	}
	held, w.held = w.held, 0
	w.next = now.Add(every)
	return held, true
}
