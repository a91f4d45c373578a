package logging

import (
	"log/slog"
	"time"
)

// Round rounds d for a log line, so that no line prints a duration to the
// nanosecond: to the microsecond below a millisecond, to the millisecond
// below a second, and to 10 ms from a second on (250µs, 12ms, 2.5s,
// 1m30.01s).
func Round(d time.Duration) time.Duration {
	switch a := max(d, -d); {
	case a < time.Millisecond:
		return d.Round(time.Microsecond)
	case a < time.Second:
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}

// roundDurations is a slog.HandlerOptions.ReplaceAttr that rounds the
// value of every duration attribute with Round.
func roundDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.DurationValue(Round(a.Value.Duration()))
	}
	return a
}
