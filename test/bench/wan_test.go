package bench_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/peerbridge/peerbridge/test/bench"
)

// TestWANSkippedIsOneLine: a skipped WAN scenario prints one line saying
// why, and no table.
func TestWANSkippedIsOneLine(t *testing.T) {
	w := &bench.WAN{Skipped: "natlab: this machine cannot host a lab: needs root"}
	var out bytes.Buffer
	if err := w.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Count(got, "\n") != 1 || !strings.Contains(got, "skipped: natlab") {
		t.Fatalf("want one line saying why, got %q", got)
	}
}
