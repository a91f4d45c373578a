package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/codec"
)

// serveStream serves one stream the peer opened: a single request, or the
// peer's message stream.
func (pc *peerConn) serveStream(st *quic.Stream) {
	defer pc.wg.Done()
	defer pc.c.inboundStreams.Add(-1)
	r := codec.NewReaderSize(st, pc.c.cfg.MaxPayload, streamReadBuffer)
	r.SetBudget(pc.frames)
	r.SetFrameTimeout(pc.c.cfg.FrameTimeout, st.SetReadDeadline)
	var f codec.Frame // f.ID 0: a refused first frame is answered as message 1
	if !pc.nextMessage(st, r, &f) {
		return
	}
	if isGoAway(&f) {
		pc.peerGoingAway(st)
		return
	}
	switch f.Kind {
	case codec.KindRequest:
		pc.serveRequests(st, r, &f)
	case codec.KindSend, codec.KindPing:
		pc.serveMessages(st, r, &f)
	default:
		pc.rejectStream(st, fmt.Errorf("%w: stream opened with a %s frame", codec.ErrMalformed, f.Kind))
	}
}

// rejectStream answers a stream whose first frame was unusable. Oversized
// frames get a 413 so the sender learns why.
func (pc *peerConn) rejectStream(st *quic.Stream, err error) {
	if errors.Is(err, codec.ErrFrameTooLarge) {
		pc.writeFrame(st, &codec.Frame{Kind: codec.KindError, Code: CodeTooLarge, Error: err.Error()})
		st.Close()
	} else if errors.Is(err, io.EOF) {
		st.Close()
	} else {
		st.CancelWrite(codeProtocol)
	}
	st.CancelRead(codeProtocol)
}

// message is the Message form of f. Remote is read from the connection now,
// not when it was made: after a NAT rebinding QUIC validates and moves to
// the peer's new address, which a gateway must see when the peer registers.
func (pc *peerConn) message(f *codec.Frame) *Message {
	return &Message{From: pc.id, Kind: f.Kind, Type: f.Type, Headers: f.Headers, Payload: f.Payload, Path: pc.path, Remote: addrPort(pc.qc.RemoteAddr())}
}

// serveRequests answers the requests on st one after another until the
// requester closes it: a request stream carries one request at a time, and
// the requester reuses it once the answer is in.
func (pc *peerConn) serveRequests(st *quic.Stream, r *codec.Reader, f *codec.Frame) {
	for {
		pc.serveRequest(st, f)
		if !pc.nextMessage(st, r, f) {
			return
		}
		if f.Kind != codec.KindRequest {
			pc.rejectStream(st, fmt.Errorf("%w: %s frame on a request stream", codec.ErrMalformed, f.Kind))
			return
		}
	}
}

// serveRequest runs the handler for one request and writes its answer. A
// request over the connector's or the peer's limits (in number, or in
// payload bytes held) is answered 503 at once, without running the handler. The sender's timeout applies only where it
// is shorter than the connector's DefaultTimeout.
func (pc *peerConn) serveRequest(st *quic.Stream, f *codec.Frame) {
	size := len(f.Payload)
	if !pc.c.admitRequest(pc.load, size) {
		pc.c.stats.refusedRequests.Add(1)
		pc.writeFrame(st, &codec.Frame{Kind: codec.KindError, ID: f.ID, Code: CodeUnavailable, Error: "busy: too many requests in flight"})
		return
	}
	defer pc.c.releaseRequest(pc.load, size)
	pc.inflight.Add(1)
	defer pc.inflight.Add(-1)
	timeout := pc.c.cfg.DefaultTimeout
	if f.Timeout > 0 {
		timeout = min(timeout, f.Timeout)
	}
	ctx, cancel := context.WithTimeout(st.Context(), timeout)
	defer cancel()
	resp, err := pc.handle(ctx, f)
	answer := codec.Frame{Kind: codec.KindReply, ID: f.ID}
	if err != nil {
		answer = errorFrame(f.ID, err)
	} else if resp != nil {
		answer.Headers, answer.Payload = resp.Headers, resp.Payload
	}
	if err := pc.writeFrame(st, &answer); errors.Is(err, codec.ErrFrameTooLarge) {
		pc.writeFrame(st, &codec.Frame{Kind: codec.KindError, ID: f.ID, Code: CodeTooLarge, Error: "reply: " + err.Error()})
	}
}

func (pc *peerConn) handle(ctx context.Context, f *codec.Frame) (*Response, error) {
	h := pc.c.getHandler()
	if h == nil {
		return nil, &RemoteError{Code: CodeUnavailable, Text: "no handler"}
	}
	return h.ServePeer(ctx, pc.message(f))
}

func errorFrame(id uint64, err error) codec.Frame {
	var re *RemoteError
	if !errors.As(err, &re) {
		re = &RemoteError{Code: CodeInternal, Text: err.Error()}
		if errors.Is(err, context.DeadlineExceeded) {
			re.Code = CodeTimeout
		}
	}
	code := re.Code
	if code < 0 || code > math.MaxUint16 {
		code = CodeInternal // the wire cannot carry it; the requester must not wait in vain
	}
	return codec.Frame{Kind: codec.KindError, ID: id, Code: code, Error: re.Text}
}

// serveMessages delivers the peer's fire-and-forget messages in order and
// acknowledges them cumulatively: one ack covers every frame read before the
// reader ran dry, so a burst costs one ack, and a stream that never runs dry
// is acknowledged every ackEvery frames (the sender cuts off a peer that
// acknowledges nothing for its AckTimeout). A frame over the payload limit is
// skipped and answered with a 413 for its sequence number; the stream goes on.
func (pc *peerConn) serveMessages(st *quic.Stream, r *codec.Reader, f *codec.Frame) {
	b := burst{parent: st.Context(), timeout: pc.c.cfg.DefaultTimeout}
	defer b.end()
	var buf []byte // encodes acks and errors, reused
	unacked := 0
	for {
		var err error
		if f.Kind == codec.KindSend {
			if _, herr := pc.handle(b.context(), f); herr != nil {
				errFrame := errorFrame(f.ID, herr)
				if buf, err = pc.writeFrameBuf(st, &errFrame, buf); err != nil {
					break
				}
			}
		}
		if unacked++; r.Buffered() == 0 || unacked >= ackEvery {
			b.end()
			if buf, err = pc.writeFrameBuf(st, &codec.Frame{Kind: codec.KindAck, ID: f.ID}, buf); err != nil {
				break
			}
			unacked = 0
		}
		if !pc.nextMessage(st, r, f) {
			return
		}
	}
	st.CancelRead(codeCancelled)
}

// ackEvery is the most frames a message stream reads before it
// acknowledges them, however much more is buffered.
const ackEvery = 1024

// nextMessage reads the frame after f into f. Frames over the limit are
// refused with a 413 frame carrying their sequence number (frames on a
// message stream are numbered 1, 2, 3, ...; a requester reads the one answer
// on its stream whatever its number) and skipped. It reports false,
// having rejected the stream, when it cannot go on.
func (pc *peerConn) nextMessage(st *quic.Stream, r *codec.Reader, f *codec.Frame) bool {
	for range maxSkippedInARow {
		seq := f.ID + 1
		err := r.ReadFrame(f)
		if err == nil && f.Kind == codec.KindPing {
			pc.pinged()
			return true
		}
		if err == nil {
			pc.received(len(f.Payload))
			return true
		}
		if errors.Is(err, codec.ErrNoBudget) || errors.Is(err, codec.ErrFrameDeadline) {
			pc.refuseFrame(st, seq, err)
			return false
		}
		var se *codec.SizeError
		if !errors.As(err, &se) {
			pc.rejectStream(st, err)
			return false
		}
		if se.What == "frame" {
			if err := r.SkipRefused(skipLimit * codec.MaxFrameSize(pc.c.cfg.MaxPayload)); errors.Is(err, codec.ErrFrameDeadline) {
				pc.refuseFrame(st, seq, err)
				return false
			} else if err != nil {
				pc.rejectStream(st, err)
				return false
			}
		}
		refusal := codec.Frame{Kind: codec.KindError, ID: seq, Code: CodeTooLarge, Error: err.Error()}
		if pc.writeFrame(st, &refusal) != nil {
			st.CancelRead(codeCancelled)
			return false
		}
		f.Reset()
		f.ID = seq
	}
	pc.rejectStream(st, fmt.Errorf("%w: %d oversized frames in a row", codec.ErrMalformed, maxSkippedInARow))
	return false
}

// refuseFrame answers a frame that could get no memory (503) or did not
// arrive in time (504), and resets the stream: its remaining bytes are not
// read.
func (pc *peerConn) refuseFrame(st *quic.Stream, seq uint64, err error) {
	code := CodeUnavailable
	if errors.Is(err, codec.ErrFrameDeadline) {
		code = CodeTimeout
		pc.c.stats.frameDeadlineResets.Add(1)
	} else {
		pc.c.stats.frameBudgetRefusals.Add(1)
	}
	st.CancelRead(codeBusy)
	if pc.writeFrame(st, &codec.Frame{Kind: codec.KindError, ID: seq, Code: code, Error: err.Error()}) == nil {
		st.Close()
	} else {
		st.CancelWrite(codeBusy)
	}
}

// Bounds on skipping oversized messages: a frame may be at most skipLimit
// times the largest allowed before the stream is given up, and at most
// maxSkippedInARow may follow each other.
const (
	skipLimit        = 64
	maxSkippedInARow = 1024
)

// burst is the handler context of the messages in one burst (the frames
// read before the reader runs dry): made at the burst's first message,
// renewed once it has run for a tenth of the timeout, ended with the burst.
// Every message's handler so gets at least nine tenths of the timeout, and
// a burst costs one timer instead of one per message.
type burst struct {
	parent  context.Context
	timeout time.Duration

	ctx     context.Context // nil between bursts
	cancel  context.CancelFunc
	renewAt time.Time
}

// context returns the current burst's context, making or renewing it.
func (b *burst) context() context.Context {
	if b.ctx != nil && time.Now().Before(b.renewAt) {
		return b.ctx
	}
	b.end()
	b.ctx, b.cancel = context.WithTimeout(b.parent, b.timeout)
	b.renewAt = time.Now().Add(b.timeout / 10)
	return b.ctx
}

// end cancels the burst's context, if there is one.
func (b *burst) end() {
	if b.cancel != nil {
		b.cancel()
		b.ctx, b.cancel = nil, nil
	}
}

// writeFrame encodes f and writes it to st. A peer that does not read its
// answers holds the write for DefaultTimeout at most.
func (pc *peerConn) writeFrame(st *quic.Stream, f *codec.Frame) error {
	_, err := pc.writeFrameBuf(st, f, newFrameBuf(f))
	return err
}

// writeFrameBuf is writeFrame encoding into buf, which it returns for the
// next frame (st.Write keeps no reference to it); a buffer grown past
// maxAckBuffer, for a long error text, is not kept.
func (pc *peerConn) writeFrameBuf(st *quic.Stream, f *codec.Frame, buf []byte) ([]byte, error) {
	buf, err := codec.AppendFrame(buf[:0], f, pc.c.cfg.MaxPayload)
	if err != nil {
		return nil, err
	}
	st.SetWriteDeadline(time.Now().Add(pc.c.cfg.DefaultTimeout))
	if _, err := st.Write(buf); err != nil {
		return nil, err
	}
	if f.Kind != codec.KindAck { // answers count as messages, acknowledgements do not
		pc.c.stats.out(len(f.Payload))
	}
	if cap(buf) > maxAckBuffer {
		buf = nil
	}
	return buf, nil
}

// maxAckBuffer is the largest buffer a message stream keeps for encoding
// its acknowledgements and errors.
const maxAckBuffer = 1 << 10
