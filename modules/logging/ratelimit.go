package logging

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// maxTracked bounds the messages a limiter remembers; past it, it starts
// afresh. Messages are constant strings in peerbridge, so it is never
// reached in practice.
const maxTracked = 1024

// limiter is the state the handlers derived from one RateLimited share.
type limiter struct {
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex // guards seen
	seen map[string]*repeat
}

// repeat is what a limiter knows of one message.
type repeat struct {
	last       time.Time // when it was last written
	suppressed int       // repeats not written since
}

// admit reports whether a record with msg at t may be written, and how many
// repeats of it were suppressed before it.
func (l *limiter) admit(msg string, t time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.seen[msg]
	if r == nil {
		if len(l.seen) >= maxTracked {
			clear(l.seen)
		}
		l.seen[msg] = &repeat{last: t}
		return true, 0
	}
	if t.Sub(r.last) < l.every {
		r.suppressed++
		return false, 0
	}
	n := r.suppressed
	r.last, r.suppressed = t, 0
	return true, n
}

// RateLimited is a slog.Handler that writes each warning or error message at
// most once per period; later ones within the period are counted and the
// count is attached to the next one written as "suppressed". Records below
// warning level pass unchanged.
type RateLimited struct {
	next slog.Handler
	l    *limiter
}

var _ slog.Handler = (*RateLimited)(nil)

// NewRateLimited wraps next; now is the clock (time.Now outside tests).
func NewRateLimited(next slog.Handler, every time.Duration, now func() time.Time) *RateLimited {
	return &RateLimited{next: next, l: &limiter{every: every, now: now, seen: make(map[string]*repeat)}}
}

// Enabled implements slog.Handler.
func (h *RateLimited) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle implements slog.Handler.
func (h *RateLimited) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.next.Handle(ctx, r)
	}
	ok, n := h.l.admit(r.Message, h.l.now())
	if !ok {
		return nil
	}
	if n > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", n))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler; the result shares the rate limit.
func (h *RateLimited) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &RateLimited{next: h.next.WithAttrs(attrs), l: h.l}
}

// WithGroup implements slog.Handler; the result shares the rate limit.
func (h *RateLimited) WithGroup(name string) slog.Handler {
	return &RateLimited{next: h.next.WithGroup(name), l: h.l}
}
