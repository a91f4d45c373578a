package connector

import (
	"context"
	"fmt"

	"github.com/quic-go/quic-go"
)

// codeSlow closes a connection whose peer acknowledged nothing within
// Config.AckTimeout: a slow consumer, cut off as nats-server cuts off its
// own.
const codeSlow quic.ApplicationErrorCode = 5

// deadline returns ctx's deadline on the connector's clock, or 0 if it has
// none.
func (c *Connector) deadline(ctx context.Context) int64 {
	d, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	return max(int64(d.Sub(c.epoch)), 1)
}

// sweepSends ends, on every live connection, the waits of sends whose
// deadline has passed, and cuts off the peers that acknowledged nothing
// within Config.AckTimeout.
func (c *Connector) sweepSends(now int64) {
	for _, pc := range c.pool.live() {
		pc.out.sweep(now, int64(c.cfg.AckTimeout))
	}
}

// cutOff closes pc, whose peer acknowledged nothing within AckTimeout.
func (c *Connector) cutOff(pc *peerConn) {
	c.stats.slowPeers.Add(1)
	c.log.Warn("closing connection: peer acknowledges nothing", "peer", pc.id.Short(), "ack_timeout", c.cfg.AckTimeout)
	pc.close(codeSlow, "no acknowledgement in time")
}

// sweep tells the sends whose deadline (on the connector's clock) is
// before now that they timed out, and drops their done functions, which
// hold the callers' messages: the frame still waits for its
// acknowledgement, and holds its queue space, without them. If the oldest
// frame waiting was written ackTimeout or more ago, every send waiting
// fails with ErrSlowPeer, nothing more is written, and the connection is
// closed before they hear of it.
func (s *sender) sweep(now, ackTimeout int64) {
	var (
		expired, failed []pending
		slow            bool
	)
	s.mu.Lock()
	for i := range s.pending {
		p := &s.pending[i]
		if p.done != nil && p.deadline != 0 && p.deadline <= now {
			expired = append(expired, pending{t: p.t, done: p.done})
			p.done = nil
		}
	}
	if len(s.pending) > 0 && now-s.pending[0].written >= ackTimeout {
		failed, s.pending = s.pending, nil
		s.failed = ErrSlowPeer
		slow = true
	}
	s.mu.Unlock()
	if slow {
		s.pc.c.cutOff(s.pc)
	}
	timeout := fmt.Errorf("%w: waiting for acknowledgement", ErrTimeout)
	for i := range expired {
		s.finish(&expired[i], timeout)
	}
	err := fmt.Errorf("%w: %w: connection closed", ErrDeliveryUnknown, ErrSlowPeer)
	for i := range failed {
		s.finish(&failed[i], err)
	}
}
