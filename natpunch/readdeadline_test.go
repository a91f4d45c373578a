package natpunch

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// TestReceive: a value arrives; a deadline in the past fails at once; a
// deadline moved into the past while a read waits ends that read; closing
// ends a read; a cleared deadline lets the next value through.
func TestReceive(t *testing.T) {
	var d readDeadline
	in, closed := make(chan int, 1), make(chan struct{})
	in <- 7
	if v, err := receive(&d, in, closed); v != 7 || err != nil {
		t.Fatalf("receive = %d, %v; want 7", v, err)
	}
	d.set(time.Now().Add(-time.Second))
	if _, err := receive(&d, in, closed); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("past deadline: %v", err)
	}
	d.set(time.Time{})
	done := make(chan error, 1)
	go func() { _, err := receive(&d, in, closed); done <- err }()
	// Moving the deadline is retried until the waiting read has seen it:
	// set before the read waits is simply the deadline it starts with.
	deadline := time.After(10 * time.Second)
	for moved := false; !moved; {
		d.set(time.Now().Add(-time.Second))
		select {
		case err := <-done:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("moved deadline: %v", err)
			}
			moved = true
		case <-time.After(10 * time.Millisecond): // pacing the retries, bounded by deadline
		case <-deadline:
			t.Fatal("a read did not end when its deadline moved into the past")
		}
	}
	d.set(time.Time{})
	go func() { _, err := receive(&d, in, closed); done <- err }()
	close(closed)
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}
