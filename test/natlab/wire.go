package natlab

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Wire is what a link between a lab host or router and the public segment
// does to the packets crossing it: delay, jitter and loss, each way. The
// kernel here has no netem, so a wired link is a pair of TAP devices, one
// in each namespace, with a forwarder in the test process between them.
// The zero Wire forwards at once and loses nothing.
//
// Round trip times add up over a path: two hosts behind their own routers
// cross two wired links each way, so a Wire with Delay 10 ms gives them
// 40 ms of RTT.
type Wire struct {
	// Delay is the one-way delay each packet gets.
	Delay time.Duration
	// Jitter is an extra delay drawn uniformly from [0, Jitter) for each
	// packet. Packets keep their order, as on one real path: a packet is
	// never delivered before the one ahead of it.
	Jitter time.Duration
	// Loss is the per cent of packets dropped at random, each way.
	Loss float64
}

func (w Wire) validate() error {
	if w.Delay < 0 || w.Jitter < 0 || w.Loss < 0 || w.Loss > 100 {
		return fmt.Errorf("natlab: invalid wire %+v: delay and jitter must not be negative, loss must be 0..100", w)
	}
	return nil
}

// String renders the wire for test logs, for example "10ms+5ms jitter, 1% loss".
func (w Wire) String() string {
	s := w.Delay.String()
	if w.Jitter > 0 {
		s += "+" + w.Jitter.String() + " jitter"
	}
	if w.Loss > 0 {
		s += fmt.Sprintf(", %g%% loss", w.Loss)
	}
	return s
}

// Bounds of a wired link's forwarder.
const (
	// frameBuf fits any Ethernet frame of the TAP devices' 1500-byte MTU.
	frameBuf = 2048
	// queueFrames is how many frames each direction holds in flight;
	// beyond it frames are dropped, as a router's full queue does.
	queueFrames = 4096
)

// WireStats counts what a wired link did, both directions together.
type WireStats struct {
	Forwarded, Lost, Overflow uint64
}

// wiredLink forwards frames between two TAP devices with its Wire applied.
type wiredLink struct {
	a, b io.ReadWriteCloser
	wire Wire
	wg   sync.WaitGroup

	forwarded, lost, overflow atomic.Uint64
}

// frame is one frame in flight and when it is due at the far end.
type frame struct {
	data []byte
	due  time.Time
}

// startWiredLink starts forwarding between a and b and owns both.
func startWiredLink(a, b io.ReadWriteCloser, w Wire) *wiredLink {
	l := &wiredLink{a: a, b: b, wire: w}
	l.direction(a, b)
	l.direction(b, a)
	return l
}

// direction starts the reader and the writer of one direction.
func (l *wiredLink) direction(from, to io.ReadWriteCloser) {
	q := make(chan frame, queueFrames)
	l.wg.Go(func() {
		defer close(q)
		l.read(from, q)
	})
	l.wg.Go(func() { l.write(to, q) })
}

// read reads frames until from is closed and queues each with its due time.
func (l *wiredLink) read(from io.Reader, q chan<- frame) {
	var last time.Time
	for {
		buf := make([]byte, frameBuf)
		n, err := from.Read(buf)
		if err != nil {
			return
		}
		if l.wire.Loss > 0 && rand.Float64()*100 < l.wire.Loss {
			l.lost.Add(1)
			continue
		}
		due := time.Now().Add(l.wire.Delay)
		if l.wire.Jitter > 0 {
			due = due.Add(rand.N(l.wire.Jitter))
		}
		if due.Before(last) {
			due = last
		}
		last = due
		select {
		case q <- frame{data: buf[:n], due: due}:
		default:
			l.overflow.Add(1)
		}
	}
}

// write delivers queued frames to `to` when they are due, until the queue
// closes. A write error (the far device gone) drops the frame.
func (l *wiredLink) write(to io.Writer, q <-chan frame) {
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	for f := range q {
		if d := time.Until(f.due); d > 0 {
			t.Reset(d)
			<-t.C
		}
		if _, err := to.Write(f.data); err == nil {
			l.forwarded.Add(1)
		}
	}
}

// stats returns the link's counters.
func (l *wiredLink) stats() WireStats {
	return WireStats{Forwarded: l.forwarded.Load(), Lost: l.lost.Load(), Overflow: l.overflow.Load()}
}

// close closes both devices, which ends the readers, and waits for the
// forwarder's goroutines.
func (l *wiredLink) close() error {
	err := errors.Join(l.a.Close(), l.b.Close())
	l.wg.Wait()
	return err
}
