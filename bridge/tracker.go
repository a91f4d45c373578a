package bridge

import "sync"

// tracker counts work in progress. It refuses work until opened and again
// once closed, and reports when the last piece of work has ended.
type tracker struct {
	limit int // most pieces of work at once; 0 means no limit

	mu     sync.Mutex    // guards every field below
	open   bool          // accepting work
	n      int           // work in progress
	idle   chan struct{} // made by close; closed once n is 0
	closed bool          // close was called
}

// start opens the tracker.
func (t *tracker) start() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.open = !t.closed
}

// add records a new piece of work, or says why it may not start.
func (t *tracker) add() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case !t.open:
		return ErrNotRunning
	case t.limit > 0 && t.n >= t.limit:
		return ErrBusy
	}
	t.n++
	return nil
}

// done records the end of a piece of work.
func (t *tracker) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.n == 0 && t.idle != nil {
		close(t.idle)
		t.idle = nil
	}
}

// close refuses new work and returns a channel closed once no work is left.
// Call it once.
func (t *tracker) close() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.open, t.closed = false, true
	idle := make(chan struct{})
	if t.n == 0 {
		close(idle)
	} else {
		t.idle = idle
	}
	return idle
}

// len returns the work in progress.
func (t *tracker) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}
