package bench

import (
	"fmt"
	"io"
)

// progress writes one line per step of a run: "bench [3/12] leaf: ...".
// It is used from the run's goroutine only.
type progress struct {
	w     io.Writer
	step  int
	total int
}

// newProgress reports total steps to w; a nil w discards them.
func newProgress(w io.Writer, total int) *progress {
	if w == nil {
		w = io.Discard
	}
	return &progress{w: w, total: total}
}

// begin starts the next step and says what it is.
func (p *progress) begin(format string, args ...any) {
	p.step++
	p.line(format, args...)
}

// line reports on the current step.
func (p *progress) line(format string, args ...any) {
	// Progress is best effort: a failing writer must not fail the run.
	_, _ = fmt.Fprintf(p.w, "bench [%d/%d] %s\n", p.step, p.total, fmt.Sprintf(format, args...))
}
