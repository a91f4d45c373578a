package connector

import (
	"context"
	"fmt"
	"sync"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/codec"
)

const (
	// maxIdleRequestStreams is how many request streams a connection keeps
	// open for later requests once their request is answered; past it they
	// are closed.
	maxIdleRequestStreams = 8
	// streamReadBuffer is the read buffer of every stream but a message
	// stream's acknowledgements: it holds a burst of 30 small frames, and
	// larger frames are read straight into their bodies. A buffer lives as
	// long as its stream, so it counts in every idle connection's memory.
	streamReadBuffer = 4 << 10
	// ackReadBuffer is the read buffer for a message stream's
	// acknowledgements, a few bytes each.
	ackReadBuffer = 512
	// maxKeptBuffer is the largest encoding buffer a message stream keeps
	// for the next frame; a larger one, grown for a large message, goes.
	maxKeptBuffer = 64 << 10
)

// reqStream is a stream that carries one request at a time: the requester
// writes a request frame and reads the answer, and the stream then waits,
// idle, for the next request. Reusing streams spares each request a stream
// open and close, and the MAX_STREAMS update and extra packets they cost.
// Concurrent requests still each have a stream of their own.
type reqStream struct {
	st        *quic.Stream
	r         *codec.Reader
	idleSince int64 // connector clock when it was last put back
}

// abort cancels both directions of the stream.
func (rs *reqStream) abort() {
	rs.st.CancelWrite(codeCancelled)
	rs.st.CancelRead(codeCancelled)
}

// finish closes an idle stream: the peer reads its end and closes its side.
func (rs *reqStream) finish() {
	rs.st.Close()
	rs.st.CancelRead(codeCancelled)
}

// reqStreams are a connection's idle request streams.
type reqStreams struct {
	mu     sync.Mutex   // guards idle and closed
	idle   []*reqStream // most recently used last
	closed bool         // the connection ended; nothing is kept
}

// get takes an idle stream, or returns nil.
func (s *reqStreams) get() *reqStream {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.idle)
	if n == 0 {
		return nil
	}
	rs := s.idle[n-1]
	s.idle[n-1] = nil
	s.idle = s.idle[:n-1]
	return rs
}

// put keeps rs for the next request, or closes it if enough are kept. now
// is the connector clock.
func (s *reqStreams) put(rs *reqStream, now int64) {
	s.mu.Lock()
	keep := !s.closed && len(s.idle) < maxIdleRequestStreams
	if keep {
		rs.idleSince = now
		s.idle = append(s.idle, rs)
	}
	s.mu.Unlock()
	if !keep {
		rs.finish()
	}
}

// trim closes the streams idle since before: a connection that carries no
// requests keeps no request stream, nor the peer's goroutine and buffer
// serving it.
func (s *reqStreams) trim(before int64) {
	s.mu.Lock()
	var old []*reqStream
	kept := s.idle[:0]
	for _, rs := range s.idle { // oldest first
		if rs.idleSince < before {
			old = append(old, rs)
		} else {
			kept = append(kept, rs)
		}
	}
	clear(s.idle[len(kept):])
	s.idle = kept
	s.mu.Unlock()
	for _, rs := range old {
		rs.finish()
	}
}

// close drops the idle streams once the connection has ended.
func (s *reqStreams) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.idle = nil
}

// requestStream returns an idle request stream, or opens one. reused
// reports an idle one.
func (pc *peerConn) requestStream(ctx context.Context) (rs *reqStream, reused bool, err error) {
	if rs := pc.reqs.get(); rs != nil {
		return rs, true, nil
	}
	st, err := pc.qc.OpenStreamSync(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, timeoutOr(ctx, err)
		}
		if r := remoteRefusal(err); r != nil {
			return nil, false, r
		}
		return nil, false, &notSentError{fmt.Errorf("%w: opening stream: %w", ErrUnreachable, err)}
	}
	return &reqStream{st: st, r: codec.NewReaderSize(st, pc.c.cfg.MaxPayload, streamReadBuffer)}, false, nil
}
