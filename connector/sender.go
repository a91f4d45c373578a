package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/codec"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// sender writes fire-and-forget messages to the connection's one outbound
// message stream and matches the receiver's cumulative acknowledgements to
// the messages waiting for them.
type sender struct {
	pc *peerConn

	mu      sync.Mutex    // guards every field below
	st      *quic.Stream  // nil until the first message, and after a failure
	r       *codec.Reader // reads st's acknowledgements
	reader  *quic.Stream  // the stream an ack reader goroutine serves; nil if none
	armed   bool          // st has a read deadline set for its idle reader to leave by
	seq     uint64        // sequence number of the last frame written on st; each stream counts from 1
	pending []pending     // written, not yet acknowledged, in write order
	spare   []pending     // ack's scratch space, reused
	buf     []byte        // encoding buffer, reused
	failed  error         // set once the connection has ended
}

// ackReaderIdle is how long a message stream waits with nothing to
// acknowledge before its ack reader ends and the stream is closed; the next
// message opens another. An idle connection so costs no stream and no
// goroutine for messages. (Connector's ackIdle, which tests shorten.)
const ackReaderIdle = time.Second

// pending is a frame waiting for its acknowledgement on stream st. done
// gets the outcome for target t.
type pending struct {
	st   *quic.Stream
	seq  uint64
	t    Target
	done func(Result) // nil once the send has its outcome (sweep), or for none
	// q is the queue whose budgets the message holds, cost bytes of it,
	// until it leaves pending; nil for a message that came through none.
	q    *sendQueue
	cost int
	// written and deadline are connector clock readings: when the frame
	// went out, and when its send stops waiting (0: never).
	written, deadline int64
}

// finish calls p's done with the outcome err (nil: acknowledged) of its
// frame, sent on s, and gives back the queue space it held.
func (s *sender) finish(p *pending, err error) {
	if p.q != nil {
		s.pc.c.queues.unhold(p.q, p.cost)
	}
	if p.done == nil {
		return
	}
	r := Result{Target: p.t, Err: err}
	if err == nil {
		pc := s.pc
		r.NodeID, r.Remote, r.Path = pc.id, addrPort(pc.qc.RemoteAddr()), pc.path
	}
	p.done(r)
}

// notSentError wraps a failure that happened before any byte of the frame
// was handed to QUIC, so the frame can be retried elsewhere.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// write sends f (its ID is set here) and calls done once the peer
// acknowledges it or the stream fails. done is not called if write returns
// an error.
func (s *sender) write(ctx context.Context, f *codec.Frame, done func(Result)) error {
	var refused [1]error
	ps := [1]pending{{done: done}}
	err := s.writeBatch(ctx, []*codec.Frame{f}, ps[:], refused[:])
	if refused[0] != nil {
		return refused[0]
	}
	return err
}

// writeBatch sends fs, in writes of up to maxKeptBuffer bytes (their IDs
// are set here), and takes over the sends ps describe (target, done,
// queue space and deadline): it sets ps[i].done to nil and calls the
// function once the peer acknowledges fs[i], the stream fails or the send's
// deadline passes. A frame that cannot be encoded is skipped and its
// error put in refused[i]. On an error, the dones still set belong to
// frames not written. ctx's deadline bounds the writes.
func (s *sender) writeBatch(ctx context.Context, fs []*codec.Frame, ps []pending, refused []error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return &notSentError{fmt.Errorf("%w: %w", ErrUnreachable, s.failed)}
	}
	if s.st == nil {
		if err := s.openLocked(ctx); err != nil {
			return err
		}
	}
	for start := 0; start < len(fs); {
		buf, n, used := s.encodeLocked(fs[start:], refused[start:])
		if n > 0 {
			if err := s.writeLocked(ctx, buf); err != nil {
				return err
			}
			s.takeOverLocked(fs[start:start+used], ps[start:start+used], refused[start:start+used])
		}
		start += used
	}
	s.pc.touch()
	return nil
}

// writeLocked writes buf, encoded frames, to the stream.
func (s *sender) writeLocked(ctx context.Context, buf []byte) error {
	if d, ok := ctx.Deadline(); ok {
		s.st.SetWriteDeadline(d)
	} else {
		s.st.SetWriteDeadline(time.Time{})
	}
	if s.armed {
		// Before the frames go out, so that their acknowledgement cannot
		// meet the deadline halfway.
		s.st.SetReadDeadline(time.Time{})
		s.armed = false
	}
	if written, err := s.st.Write(buf); err != nil {
		return s.writeFailedLocked(ctx, written, err)
	}
	if s.reader != s.st {
		s.reader = s.st
		s.pc.wg.Add(1)
		go s.readAcks(s.st, s.r)
	}
	return nil
}

// takeOverLocked records the frames just written as waiting for their
// acknowledgement.
func (s *sender) takeOverLocked(fs []*codec.Frame, ps []pending, refused []error) {
	now := s.pc.c.now()
	for i, f := range fs {
		if refused[i] != nil {
			continue
		}
		p := ps[i]
		p.st, p.seq, p.written = s.st, f.ID, now
		s.pending = append(s.pending, p)
		ps[i].done = nil
		s.seq = f.ID
		s.pc.c.stats.out(len(f.Payload))
	}
}

// encodeLocked encodes frames of fs, numbered from s.seq+1, into the
// sender's buffer until it holds maxKeptBuffer bytes or more, and returns
// it, how many frames it holds and how many of fs it went through. Frames
// that cannot be encoded are left out, their errors in refused.
func (s *sender) encodeLocked(fs []*codec.Frame, refused []error) (buf []byte, n, used int) {
	buf = s.buf[:0]
	for used < len(fs) && len(buf) < maxKeptBuffer {
		f := fs[used]
		f.ID = s.seq + uint64(n) + 1
		var err error
		if buf, err = codec.AppendFrame(buf, f, s.pc.c.cfg.MaxPayload); err != nil {
			refused[used] = err
		} else {
			n++
		}
		used++
	}
	if cap(buf) <= 2*maxKeptBuffer {
		s.buf = buf
	} else {
		s.buf = nil
	}
	return buf, n, used
}

func (s *sender) openLocked(ctx context.Context) error {
	st, err := s.pc.qc.OpenStreamSync(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return timeoutOr(ctx, err)
		}
		if r := remoteRefusal(err); r != nil {
			return r // refused in the handshake: nothing was delivered
		}
		return &notSentError{fmt.Errorf("%w: opening stream: %w", ErrUnreachable, err)}
	}
	s.st = st
	s.seq = 0 // so the receiver knows the number of a first frame it refuses unread
	s.r = codec.NewReaderSize(st, s.pc.c.cfg.MaxPayload, ackReadBuffer)
	return nil
}

// writeFailedLocked classifies a failed write. Part of the frame may be on
// its way, so the stream is abandoned: the next frame starts a new one, and
// the frames before it are failed by readAcks.
func (s *sender) writeFailedLocked(ctx context.Context, n int, err error) error {
	st := s.st
	s.st = nil
	st.CancelWrite(codeCancelled)
	st.CancelRead(codeCancelled)
	if r := remoteRefusal(err); r != nil {
		return r // refused in the handshake: nothing was delivered
	}
	if n == 0 && !s.pc.alive() {
		return &notSentError{fmt.Errorf("%w: %w", ErrUnreachable, err)}
	}
	if n == 0 && ctx.Err() != nil {
		return timeoutOr(ctx, err)
	}
	return fmt.Errorf("%w: %w", ErrDeliveryUnknown, err)
}

// readAcks reads acknowledgements and errors from the peer until the stream
// ends, then fails what is still waiting. Once nothing is left to
// acknowledge it waits ackReaderIdle for more and then ends; write starts
// another reader with the next frame. No frame can be cut by that
// deadline: it is set only when every frame written has been acknowledged
// (the last frame read was an acknowledgement, which comes after any error
// frames), and write clears it before the next frame goes out.
func (s *sender) readAcks(st *quic.Stream, r *codec.Reader) {
	defer s.pc.wg.Done()
	var f codec.Frame
	for {
		if err := r.ReadFrame(&f); err != nil {
			if isTimeout(err) && s.leaveIdle(st) {
				return
			} else if isTimeout(err) {
				continue // a frame went out as the deadline passed
			}
			s.streamEnded(st, err)
			return
		}
		s.pc.heard() // an acknowledgement is not a message
		switch f.Kind {
		case codec.KindAck:
			s.ack(st, f.ID)
		case codec.KindError:
			s.reject(st, f.ID, remoteError(&f, s.pc.id))
		default:
			s.streamEnded(st, fmt.Errorf("%w: unexpected %s frame on message stream", codec.ErrMalformed, f.Kind))
			return
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// leaveIdle reports whether st's reader may end because nothing is waiting
// for an acknowledgement on it, and then closes st: an idle connection
// keeps no message stream (nor the peer's goroutine and buffer serving
// it), and the next message opens a new one, which costs no round trip.
// Otherwise a frame was written as the deadline passed, and write has
// cleared the deadline.
func (s *sender) leaveIdle(st *quic.Stream) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st != st || len(s.pending) > 0 || !s.armed {
		return false
	}
	s.st, s.r, s.reader, s.armed = nil, nil, nil, false
	st.Close()
	st.CancelRead(codeCancelled)
	return true
}

// ack completes the frames up to upTo, read on st, and sets st's idle
// deadline if none is left.
func (s *sender) ack(st *quic.Stream, upTo uint64) {
	s.mu.Lock()
	acked := s.spare[:0]
	s.spare = nil
	acked, s.pending = takeAcked(s.pending, st, upTo, acked)
	if len(s.pending) == 0 && s.st == st && s.reader == st {
		st.SetReadDeadline(time.Now().Add(s.pc.c.ackIdle))
		s.armed = true
	}
	s.mu.Unlock()
	for i := range acked {
		s.finish(&acked[i], nil)
	}
	clear(acked)
	s.mu.Lock()
	s.spare = acked[:0]
	s.mu.Unlock()
}

// takeAcked moves the frames of pending that an acknowledgement of frames
// up to upTo on st completes to acked, and returns both. pending is in
// write order, and a stream's frames follow each other (the sender moves to
// a new stream only once the old one is done with), in the order of their
// numbers: what upTo acknowledges is one run, after the frames older
// streams still wait for, usually none. Cutting the run out costs what it
// holds, not what waits behind it, so a long backlog is not walked on
// every acknowledgement.
func takeAcked(pending []pending, st *quic.Stream, upTo uint64, acked []pending) ([]pending, []pending) {
	i := 0
	for i < len(pending) && pending[i].st != st {
		i++
	}
	j := i
	for j < len(pending) && pending[j].st == st && pending[j].seq <= upTo {
		j++
	}
	acked = append(acked, pending[i:j]...)
	if i == 0 && j < len(pending) {
		clear(pending[:j]) // the array keeps no done functions
		return acked, pending[j:]
	}
	n := copy(pending[i:], pending[j:])
	clear(pending[i+n:])
	return acked, pending[:i+n]
}

func (s *sender) reject(st *quic.Stream, seq uint64, err error) {
	s.mu.Lock()
	var (
		rejected pending
		found    bool
	)
	for i, p := range s.pending {
		if p.st == st && p.seq == seq {
			rejected, found = p, true
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	if found {
		s.finish(&rejected, err)
	}
}

// streamEnded fails every frame still waiting on st; frames already written
// on a newer stream wait for theirs.
func (s *sender) streamEnded(st *quic.Stream, cause error) {
	s.mu.Lock()
	if s.st == st {
		s.st = nil
		st.CancelWrite(codeCancelled)
	}
	if s.reader == st {
		s.reader = nil
	}
	var waiting []pending
	kept := s.pending[:0]
	for _, p := range s.pending {
		if p.st == st {
			waiting = append(waiting, p)
		} else {
			kept = append(kept, p)
		}
	}
	clear(s.pending[len(kept):])
	s.pending = kept
	s.mu.Unlock()
	st.CancelRead(codeCancelled)
	if errors.Is(cause, io.EOF) {
		cause = io.ErrUnexpectedEOF
	}
	err := fmt.Errorf("%w: %w", ErrDeliveryUnknown, cause)
	if r := remoteRefusal(cause); r != nil {
		err = r // refused in the handshake: nothing was delivered
	}
	for i := range waiting {
		s.finish(&waiting[i], err)
	}
}

// idle reports whether no message waits for its acknowledgement.
func (s *sender) idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending) == 0
}

// fail marks the sender dead once the connection has ended.
func (s *sender) fail(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cause == nil {
		cause = errors.New("connection closed")
	}
	s.failed = cause
}

// timeoutOr maps a context's deadline to ErrTimeout.
func timeoutOr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &timeoutError{cause: err}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// timeoutError is ErrTimeout with what was going on when time ran out. Its
// text says what happened in words a requester can act on, never the QUIC
// stream's cancellation it wraps.
type timeoutError struct {
	peer  identity.NodeID // "" if not known
	cause error
}

func (e *timeoutError) Error() string {
	if e.peer != "" {
		return "connector: timeout: no answer from " + e.peer.Short() + " in time"
	}
	return "connector: timeout: no answer in time"
}

func (e *timeoutError) Is(target error) bool { return target == ErrTimeout }
func (e *timeoutError) Unwrap() error        { return e.cause }
