package logging

import (
	"bytes"
	"log/slog"
	"regexp"
	"testing"
	"time"
)

func TestRound(t *testing.T) {
	for _, tt := range []struct{ in, want time.Duration }{
		{0, 0},
		{1234 * time.Nanosecond, time.Microsecond},
		{1234567 * time.Nanosecond, time.Millisecond},
		{999499999 * time.Nanosecond, 999 * time.Millisecond},
		{2499994893 * time.Nanosecond, 2500 * time.Millisecond},
		{2494994893 * time.Nanosecond, 2490 * time.Millisecond},
		{-2499994893 * time.Nanosecond, -2500 * time.Millisecond},
		{90*time.Second + 12345678*time.Nanosecond, 90*time.Second + 10*time.Millisecond},
	} {
		if got := Round(tt.in); got != tt.want {
			t.Errorf("Round(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// nanoDuration finds a duration printed with more than three decimals.
var nanoDuration = regexp.MustCompile(`\d\.\d{4,}(h|m|s|ms|µs|us)\b`)

// TestNewRoundsDurations: every duration attribute New's logger writes,
// given directly, with With or in a group, is rounded.
func TestNewRoundsDurations(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, FormatText, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	d := 2499994893 * time.Nanosecond
	log.With("wait", d).Info("stopped", "took", d, slog.Group("g", slog.Duration("left", 1234567*time.Nanosecond)))
	want := "msg=stopped wait=2.5s took=2.5s g.left=1ms\n"
	if out := buf.String(); nanoDuration.MatchString(out) || !bytes.HasSuffix(buf.Bytes(), []byte(want)) {
		t.Errorf("log line %q, want it to end in %q", out, want)
	}
}
