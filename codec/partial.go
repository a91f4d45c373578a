package codec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Errors a Reader limited by SetBudget or SetFrameTimeout fails with.
var (
	// ErrNoBudget reports a frame whose body could not be given memory
	// because the budget for partly received frames is spent.
	ErrNoBudget = errors.New("codec: no memory budget for a partly received frame")
	// ErrFrameDeadline reports a frame whose body did not arrive in full
	// within the reader's frame timeout.
	ErrFrameDeadline = errors.New("codec: frame not complete by its deadline")
)

// Budget is memory shared by the frames that are still arriving. A Reader
// reserves from it before it grows the body of a frame it must wait for,
// and gives all of it back once ReadFrame returns.
type Budget interface {
	// Reserve takes n bytes, or takes nothing and reports false.
	Reserve(n int) bool
	// Release gives back n bytes that Reserve took.
	Release(n int)
}

// bodyChunk is the first allocation for a frame body that has not fully
// arrived; the body grows fourfold from there as bytes come, so an announced
// size costs little until its bytes are here. A step that would reach half
// the body or more goes straight to its full size, so a body is copied at
// most twice on its way (64 KiB, 256 KiB, then the whole of a 1 MiB body).
const bodyChunk = 64 << 10

// SetBudget makes r reserve from b every byte it allocates for a frame body
// that is not already buffered, and fail with ErrNoBudget when b refuses.
func (r *Reader) SetBudget(b Budget) { r.budget = b }

// SetFrameTimeout makes r fail with ErrFrameDeadline when a frame is not
// complete d after its first byte arrived (the wait before it is not timed:
// a stream may idle between frames), and likewise when the rest of a frame
// SkipRefused skips does not arrive within d. setDeadline is the stream's
// SetReadDeadline; r clears the deadline after each frame.
func (r *Reader) SetFrameTimeout(d time.Duration, setDeadline func(time.Time) error) {
	r.frameTimeout, r.setDeadline = d, setDeadline
}

// readBody reads a body of size bytes. A body already buffered is read in
// one allocation; any other grows as its bytes arrive, within the budget and
// the frame deadline.
func (r *Reader) readBody(size int) ([]byte, error) {
	if size <= r.br.Buffered() {
		body := make([]byte, size)
		_, err := io.ReadFull(r.br, body)
		return body, err
	}
	r.arm()
	var body []byte
	reserved := 0
	defer func() {
		if r.budget != nil && reserved > 0 {
			r.budget.Release(reserved)
		}
	}()
	for len(body) < size {
		if len(body) == cap(body) {
			grown, err := r.grow(body, size)
			if err != nil {
				return nil, err
			}
			reserved += cap(grown) - cap(body)
			body = grown
		}
		n, err := r.br.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err != nil && len(body) < size {
			return nil, r.bodyError(err)
		}
	}
	return body, nil
}

// readHeader reads a length prefix into r.hdr. A frame's deadline starts at
// its first byte.
func (r *Reader) readHeader() error {
	if r.br.Buffered() < lengthSize && r.timed() {
		if _, err := r.br.Peek(1); err != nil {
			return err
		}
		if r.br.Buffered() < lengthSize {
			r.arm()
		}
	}
	if _, err := io.ReadFull(r.br, r.hdr[:]); err != nil {
		if err == io.EOF {
			return err
		}
		return r.bodyError(err)
	}
	return nil
}

// timed reports whether r has a frame timeout.
func (r *Reader) timed() bool { return r.frameTimeout > 0 && r.setDeadline != nil }

// arm starts the current frame's deadline, unless it runs already.
func (r *Reader) arm() {
	if r.timed() && !r.armed {
		r.setDeadline(time.Now().Add(r.frameTimeout))
		r.armed = true
	}
}

// disarm clears the current frame's deadline, if it was set.
func (r *Reader) disarm() {
	if r.armed {
		r.setDeadline(time.Time{})
		r.armed = false
	}
}

// grow returns body with room for the next chunk of a size-byte body, its
// growth reserved from the budget.
func (r *Reader) grow(body []byte, size int) ([]byte, error) {
	next := min(size, max(bodyChunk, 4*cap(body)))
	if 2*next >= size {
		next = size
	}
	if r.budget != nil && !r.budget.Reserve(next-cap(body)) {
		return nil, fmt.Errorf("%w: %d of %d bytes arrived", ErrNoBudget, len(body), size)
	}
	grown := make([]byte, len(body), next)
	copy(grown, body)
	return grown, nil
}

// bodyError is what ReadFrame reports for err inside a frame body.
func (r *Reader) bodyError(err error) error {
	switch {
	case err == io.EOF:
		return io.ErrUnexpectedEOF
	case errors.Is(err, os.ErrDeadlineExceeded) && r.armed:
		return fmt.Errorf("%w (%v): %w", ErrFrameDeadline, r.frameTimeout, err)
	}
	return err
}
