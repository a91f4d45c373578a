package natpunch

import (
	"net"
	"os"
	"sync"
	"time"
)

// readDeadline is the read deadline of an in-memory net.PacketConn (the
// relay's and the TCP relay link's): quic-go moves it while a read waits,
// so a change wakes the reader. The zero value has no deadline.
type readDeadline struct {
	mu   sync.Mutex // guards at and wake
	at   time.Time
	wake chan struct{} // closed when at changes; nil until a read waits
}

// set moves the deadline and wakes a waiting read.
func (d *readDeadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.at = t
	if d.wake != nil {
		close(d.wake)
		d.wake = nil
	}
}

// current returns the deadline and a channel closed when it changes.
func (d *readDeadline) current() (time.Time, <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.wake == nil {
		d.wake = make(chan struct{})
	}
	return d.at, d.wake
}

// receive waits for the next value from in, until closed is closed
// (net.ErrClosed) or the deadline passes (os.ErrDeadlineExceeded).
func receive[T any](d *readDeadline, in <-chan T, closed <-chan struct{}) (T, error) {
	var zero T
	for {
		at, wake := d.current()
		var timeout <-chan time.Time
		var t *time.Timer
		if !at.IsZero() {
			left := time.Until(at)
			if left <= 0 {
				return zero, os.ErrDeadlineExceeded
			}
			t = time.NewTimer(left)
			timeout = t.C
		}
		select {
		case v := <-in:
			stop(t)
			return v, nil
		case <-closed:
			stop(t)
			return zero, net.ErrClosed
		case <-timeout:
			return zero, os.ErrDeadlineExceeded
		case <-wake:
			stop(t)
		}
	}
}

func stop(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}
