package logging

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Formats New accepts.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// DefaultRepeatEvery is how often one warning or error message may be
// logged; the repeats between are counted, not written.
const DefaultRepeatEvery = 10 * time.Second

// ErrBadFormat reports a log format other than text or json.
var ErrBadFormat = errors.New("logging: format must be text or json")

// New returns a logger writing format ("text" or "json") to w at level and
// above, with warnings and errors rate-limited per message to one every
// DefaultRepeatEvery, and every duration attribute rounded by Round.
func New(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: roundDurations}
	var h slog.Handler
	switch format {
	case FormatText:
		h = slog.NewTextHandler(w, opts)
	case FormatJSON:
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("%w, not %q", ErrBadFormat, format)
	}
	return slog.New(NewRateLimited(h, DefaultRepeatEvery, time.Now)), nil
}
