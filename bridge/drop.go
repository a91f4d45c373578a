package bridge

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
)

// Reasons a message nobody waits for (it has no reply subject) is dropped:
// the values of the metric peerbridge_dropped_total's reason label.
const (
	// DropQueueFull: the peer's send queue, the queues as a whole or the
	// messages waiting for acknowledgement were full.
	DropQueueFull = "queue_full"
	// DropPeerUnreachable: no connection to the peer could be had, the
	// peer is unknown, or it was going away.
	DropPeerUnreachable = "peer_unreachable"
	// DropTimeout: the peer did not acknowledge it in time.
	DropTimeout = "timeout"
	// DropDeliveryUnknown: the connection was lost after the message was
	// written, so it may have arrived.
	DropDeliveryUnknown = "delivery_unknown"
	// DropStopped: the bridge was stopping.
	DropStopped = "stopped"
	// DropRefused: the message was malformed, too large or not allowed, or
	// the peer answered it with an error.
	DropRefused = "refused"
)

// Dropped counts the messages without a reply subject that were not
// delivered, one per peer, by reason.
type Dropped struct {
	QueueFull, PeerUnreachable, Timeout, DeliveryUnknown, Stopped, Refused uint64
}

// DropCount is how many messages were dropped for one reason.
type DropCount struct {
	Reason string
	N      uint64
}

// ByReason returns the counts with their reasons, every reason in a fixed
// order.
func (d Dropped) ByReason() []DropCount {
	return []DropCount{
		{DropQueueFull, d.QueueFull}, {DropPeerUnreachable, d.PeerUnreachable}, {DropTimeout, d.Timeout},
		{DropDeliveryUnknown, d.DeliveryUnknown}, {DropStopped, d.Stopped}, {DropRefused, d.Refused},
	}
}

// dropCounters holds the live counters behind Dropped, and when the next
// warning may be logged.
type dropCounters struct {
	queueFull, peerUnreachable, timeout, deliveryUnknown, stopped, refused atomic.Uint64

	warnings ratelimit.Warnings // at most one warning per dropWarnEvery
}

func (d *dropCounters) snapshot() Dropped {
	return Dropped{
		QueueFull: d.queueFull.Load(), PeerUnreachable: d.peerUnreachable.Load(), Timeout: d.timeout.Load(),
		DeliveryUnknown: d.deliveryUnknown.Load(), Stopped: d.stopped.Load(), Refused: d.refused.Load(),
	}
}

// counter returns the counter of err's reason, and the reason.
func (d *dropCounters) counter(err error) (*atomic.Uint64, string) {
	switch {
	case errors.Is(err, connector.ErrDeliveryUnknown):
		return &d.deliveryUnknown, DropDeliveryUnknown
	case isAny(err, ErrBusy, connector.ErrBusy):
		return &d.queueFull, DropQueueFull
	case errors.Is(err, connector.ErrTimeout):
		return &d.timeout, DropTimeout
	case isAny(err, connector.ErrUnreachable, connector.ErrUnknownPeer, connector.ErrGoingAway):
		return &d.peerUnreachable, DropPeerUnreachable
	case isAny(err, ErrNotRunning, connector.ErrClosed):
		return &d.stopped, DropStopped
	}
	return &d.refused, DropRefused
}

// dropWarnEvery is how often the bridge warns of dropped messages at most.
const dropWarnEvery = 10 * time.Second

// dropped counts a message on subject, without a reply subject, that was
// not delivered to peer (empty if it named none that could be read), and
// warns of it unless a warning went out within dropWarnEvery.
func (b *Bridge) dropped(subject, peer string, err error) {
	n, reason := b.stats.drops.counter(err)
	n.Add(1)
	held, ok := b.stats.drops.warnings.Allow(time.Now(), dropWarnEvery)
	if !ok {
		return
	}
	b.log.Warn("dropping message nobody waits for", "subject", subject, "peer", peer, "reason", reason, "err", err,
		"dropped_since_last_warning", held)
}
