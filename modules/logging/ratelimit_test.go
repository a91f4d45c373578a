package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestRepeatedWarningsAreRateLimited: of five warnings within a period one
// is written; the next after the period carries the count of the others.
// Info lines are never limited.
func TestRepeatedWarningsAreRateLimited(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(1000, 0)
	log := slog.New(NewRateLimited(slog.NewJSONHandler(&buf, nil), 10*time.Second, func() time.Time { return now }))
	for range 5 {
		log.With("component", "bridge").Warn("dropping message", "n", 1)
		log.Info("opened")
		now = now.Add(time.Second)
	}
	now = now.Add(10 * time.Second)
	log.Warn("dropping message")

	var warns, infos int
	var last map[string]any
	for line := range strings.Lines(buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		switch rec["level"] {
		case "WARN":
			warns++
			last = rec
		case "INFO":
			infos++
		}
	}
	if warns != 2 || infos != 5 || last["suppressed"] != float64(4) {
		t.Errorf("%d warnings, %d infos, last warning %v; want 2, 5, suppressed 4\n%s", warns, infos, last, buf.String())
	}
}

func TestNewRefusesBadFormat(t *testing.T) {
	if _, err := New(&bytes.Buffer{}, "xml", slog.LevelInfo); !errors.Is(err, ErrBadFormat) {
		t.Errorf("format xml: %v", err)
	}
	for _, f := range []string{FormatText, FormatJSON} {
		if _, err := New(&bytes.Buffer{}, f, slog.LevelInfo); err != nil {
			t.Errorf("format %s: %v", f, err)
		}
	}
}
