package connector

import (
	"context"
	"fmt"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/codec"
)

// goAwayPoll is how often a waiting side looks again at the work in flight
// on a connection, which has no event of its own.
const goAwayPoll = 5 * time.Millisecond

// goAwayType marks the ping frame that is the goaway signal. A ping never
// reaches a handler, so no message can pose as one; a peer that does not
// know the signal acknowledges it as a ping.
const goAwayType = "peerbridge.goaway"

// isGoAway reports whether f, the first frame of a stream, is the signal.
func isGoAway(f *codec.Frame) bool { return f.Kind == codec.KindPing && f.Type == goAwayType }

// peerGoingAway handles the peer's signal, read from st: nothing new goes
// out on the connection, and once this side's outbound work on it is done
// it sends its own signal. It runs on st's goroutine.
func (pc *peerConn) peerGoingAway(st *quic.Stream) {
	st.CancelRead(codeCancelled)
	st.Close()
	pc.leaving.Store(true)
	pc.peerLeft.Store(true)
	pc.c.log.Debug("peer going away", "peer", pc.id.Short())
	if pollUntil(pc.qc.Context(), pc.outboundIdle) {
		pc.sendGoAway()
	}
}

// sendGoAway sends this side's signal, once: a ping frame of goAwayType on
// a stream of its own, which is then closed.
func (pc *peerConn) sendGoAway() {
	if !pc.sentAway.CompareAndSwap(false, true) {
		return
	}
	pc.leaving.Store(true)
	st, err := pc.qc.OpenStream()
	if err == nil {
		err = pc.writeFrame(st, &codec.Frame{Kind: codec.KindPing, Type: goAwayType, ID: 1})
		st.Close()
		st.CancelRead(codeCancelled)
	}
	if err != nil {
		pc.c.log.Debug("cannot signal going away", "peer", pc.id.Short(), "err", err)
	}
}

// outboundIdle reports whether nothing this side started on the
// connection waits for the peer: no request, no unacknowledged message.
func (pc *peerConn) outboundIdle() bool {
	return pc.outflight.Load() == 0 && pc.out.idle()
}

// doneLeaving reports whether a connection may be closed by the side going
// away: the peer answered its signal and nothing is in flight either way.
func (pc *peerConn) doneLeaving() bool {
	return !pc.alive() || pc.peerLeft.Load() && pc.inflight.Load() == 0 && pc.out.idle()
}

// pollUntil polls ok until it holds, or ctx ends; it reports which.
func pollUntil(ctx context.Context, ok func() bool) bool {
	t := time.NewTicker(goAwayPoll)
	defer t.Stop()
	for !ok() {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// Shutdown stops the connector gracefully, then closes it: it refuses new
// sends and requests, lets the queued messages go out, tells every peer it
// is going away, and waits until each peer has answered and the work in
// flight on each connection is done, or ctx ends. Call it after the work
// that feeds the connector (the bridge) has stopped. It returns ctx's error
// if the grace period ran out, after closing all the same.
func (c *Connector) Shutdown(ctx context.Context) error {
	if c.cancel == nil {
		return nil
	}
	c.closing.Store(true)
	queued := pollUntil(ctx, func() bool { n, _, _ := c.queues.load(); return n == 0 })
	conns := c.pool.live()
	for _, pc := range conns {
		pc.sendGoAway()
	}
	done := queued && pollUntil(ctx, func() bool {
		for _, pc := range conns {
			if !pc.doneLeaving() {
				return false
			}
		}
		return true
	})
	err := c.Close()
	if !done && err == nil {
		c.log.Warn("grace period over with work in flight", "err", ctx.Err())
		return fmt.Errorf("connector: shutdown: %w", ctx.Err())
	}
	return err
}
