package connector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/peerbridge/peerbridge/codec"
)

// request runs one request on a request stream of its own (an idle one if
// the connection has one) and returns the answer frame. Failures before any
// byte was written are *notSentError.
func (pc *peerConn) request(ctx context.Context, f *codec.Frame) (*codec.Frame, error) {
	pc.inflight.Add(1)
	defer pc.inflight.Add(-1)
	pc.outflight.Add(1)
	defer pc.outflight.Add(-1)
	pc.touch()
	if d, ok := ctx.Deadline(); ok {
		f.Timeout = timeUntil(d)
	}
	buf, err := codec.AppendFrame(newFrameBuf(f), f, pc.c.cfg.MaxPayload)
	if err != nil {
		return nil, err
	}
	for {
		rs, reused, err := pc.requestStream(ctx)
		if err != nil {
			return nil, err
		}
		answer, n, err := pc.roundTrip(ctx, rs, buf, len(f.Payload))
		if err != nil && reused && n == 0 && pc.alive() && ctx.Err() == nil {
			continue // the idle stream had broken before a byte was written
		}
		return answer, err
	}
}

// roundTrip writes the encoded request buf (with a payload of payload
// bytes) on rs and reads the answer, reporting how many bytes of buf were
// written. rs is kept for the next request if the exchange completed;
// otherwise it is cancelled.
func (pc *peerConn) roundTrip(ctx context.Context, rs *reqStream, buf []byte, payload int) (*codec.Frame, int, error) {
	stop := context.AfterFunc(ctx, rs.abort)
	n, err := rs.st.Write(buf)
	if err != nil {
		stop()
		rs.abort()
		if r := remoteRefusal(err); r != nil {
			return nil, 0, r
		}
		if n == 0 && !pc.alive() {
			return nil, 0, &notSentError{fmt.Errorf("%w: %w", ErrUnreachable, err)}
		}
		return nil, n, pc.requestFailed(ctx, err)
	}
	pc.c.stats.out(payload)
	var answer codec.Frame
	err = rs.r.ReadFrame(&answer)
	intact := stop() && err == nil && (answer.Kind == codec.KindReply || answer.Kind == codec.KindError)
	if !intact {
		rs.abort()
	}
	if err != nil {
		return nil, n, pc.requestFailed(ctx, err)
	}
	pc.received(len(answer.Payload))
	if intact {
		pc.reqs.put(rs, pc.c.now())
	}
	switch answer.Kind {
	case codec.KindReply:
		return &answer, n, nil
	case codec.KindError:
		return nil, n, remoteError(&answer, pc.id)
	}
	return nil, n, fmt.Errorf("%w: %s frame in answer to a request", codec.ErrMalformed, answer.Kind)
}

// requestFailed classifies an error after the request was written.
func (pc *peerConn) requestFailed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		err = timeoutOr(ctx, err)
		if te, ok := err.(*timeoutError); ok {
			te.peer = pc.id
		}
		return err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && pc.alive() {
		return &timeoutError{peer: pc.id, cause: err}
	}
	if errors.Is(err, codec.ErrMalformed) || errors.Is(err, codec.ErrFrameTooLarge) || errors.Is(err, codec.ErrUnknownVersion) {
		return fmt.Errorf("connector: bad answer from %s: %w", pc.id.Short(), err)
	}
	if r := remoteRefusal(err); r != nil {
		return r // refused in the handshake: nothing was delivered
	}
	return fmt.Errorf("%w: %w", ErrDeliveryUnknown, err)
}

// ping writes a ping on the message stream and waits for its
// acknowledgement. A failure is a *notSentError or the ping's own error.
func (pc *peerConn) ping(ctx context.Context) error {
	done := make(chan error, 1)
	if err := pc.out.write(ctx, &codec.Frame{Kind: codec.KindPing}, func(r Result) { done <- r.Err }); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: ping: %w", ErrTimeout, ctx.Err())
	}
}

// maxFrameTimeout is the longest timeout a frame carries (codec refuses
// more); a request with a later deadline asks the peer for this long.
const maxFrameTimeout = 24 * time.Hour

func timeUntil(d time.Time) time.Duration {
	return min(max(time.Until(d), time.Millisecond), maxFrameTimeout)
}
