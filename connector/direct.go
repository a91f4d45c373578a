package connector

import (
	"time"

	"github.com/peerbridge/peerbridge/codec"
)

// sendDirect writes q on its target's pooled connection at once, without a
// trip through a queue and its worker, when that cannot wait for anything:
// no message to the target is queued or being written (so order is kept:
// a worker forgets its queue only once it has written everything in it),
// the connection is pooled, alive and needs no ping, its message stream is
// open and idle, and QUIC takes the whole frame without blocking (flow
// control). It reports whether it took q; if not, nothing was written and
// q goes to the queue as usual. A fan-out so costs no goroutine per peer,
// and a lone message no hand-over to one.
func (c *Connector) sendDirect(q *queued) bool {
	if len(q.payload) > maxDirectPayload || q.ctx.Err() != nil || c.queues.busyFor(queueKey(q.t)) {
		return false
	}
	pc, _ := c.pool.lookup(q.t)
	if pc == nil || !pc.alive() || pc.leaving.Load() || !c.fresh(pc) {
		return false
	}
	if !pc.out.tryWrite(q) {
		return false
	}
	c.stats.poolHits.Add(1)
	return true
}

// maxDirectPayload is the largest payload sendDirect takes; a larger one
// goes through the queue, whose worker writes it with others in one go.
const maxDirectPayload = 16 << 10

// fresh reports whether pc was heard from recently enough to be written to
// without the ping that verified would send.
func (c *Connector) fresh(pc *peerConn) bool {
	return c.cfg.ReverifyAfter < 0 || c.now()-pc.lastRecv.Load() < int64(c.cfg.ReverifyAfter)
}

// busyFor reports whether the queue for key has messages or a worker.
func (qs *sendQueues) busyFor(key string) bool {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	sq := qs.byKey[key]
	return qs.closed || sq != nil && sq.serving
}

// tryWrite writes q as the next frame of the open message stream if the
// stream is idle (no message waits for its acknowledgement) and the write
// needs no waiting: not for the sender's lock, a stream to open, or QUIC
// flow control. It reports whether q was written; its done is then called
// with the peer's acknowledgement, as for writeBatch.
func (s *sender) tryWrite(q *queued) bool {
	if !s.mu.TryLock() {
		return false
	}
	defer s.mu.Unlock()
	if s.failed != nil || s.st == nil || len(s.pending) > 0 {
		return false // under load the worker batches, which costs less per message
	}
	f := codec.Frame{Kind: codec.KindSend, ID: s.seq + 1, Type: q.typ, Headers: q.headers, Payload: q.payload}
	buf, err := codec.AppendFrame(s.buf[:0], &f, s.pc.c.cfg.MaxPayload)
	if err != nil {
		return false // the worker reports it
	}
	s.buf = buf
	armed := s.armed
	if armed {
		// As in writeLocked: before the frame goes out.
		s.st.SetReadDeadline(time.Time{})
		s.armed = false
	}
	if s.st.TryWriteAll(buf) != nil {
		if armed {
			// Nothing went out and nothing waits: the idle reader may
			// leave by its deadline again, as ack set it.
			s.st.SetReadDeadline(time.Now().Add(s.pc.c.ackIdle))
			s.armed = true
		}
		return false
	}
	if s.reader != s.st {
		s.reader = s.st
		s.pc.wg.Add(1)
		go s.readAcks(s.st, s.r)
	}
	s.pending = append(s.pending, pending{st: s.st, seq: f.ID, t: q.t, done: q.done, written: s.pc.c.now(), deadline: s.pc.c.deadline(q.ctx)})
	s.seq = f.ID
	s.pc.c.stats.out(len(q.payload))
	s.pc.touch()
	return true
}
