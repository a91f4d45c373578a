package connector

import "sync/atomic"

// Stats are the connector's counters since it started, and a few gauges.
type Stats struct {
	PoolHits, PoolMisses, Dials, DialFailures, Evictions uint64
	Conns                                                int
	// MessagesOut and MessagesIn count the messages, requests and answers
	// (replies and errors) sent to and received from peers; acknowledgements
	// and pings are not messages. BytesOut and BytesIn are their payloads'
	// bytes, so a sender's out and its receiver's in count the same.
	MessagesOut, MessagesIn, BytesOut, BytesIn uint64

	// InboundConns is how many inbound connections hold a slot of
	// Config.MaxConns now, handshakes included.
	InboundConns int
	// RefusedConns, RefusedConnsPerIP and RefusedConnsPerPeer count inbound
	// connections refused for Config.MaxConns, MaxConnsPerIP and
	// MaxConnsPerPeer.
	RefusedConns, RefusedConnsPerIP, RefusedConnsPerPeer uint64
	// RefusedStreams counts streams reset for Config.MaxInboundStreams.
	RefusedStreams uint64
	// InboundRequests is how many requests from peers are being served now;
	// RefusedRequests counts those answered 503 for
	// Config.MaxInboundRequests or MaxInboundRequestsPerPeer.
	InboundRequests int64
	RefusedRequests uint64
	// InboundRequestBytes is the payload held by inbound requests being
	// served now (payloads over 64 KiB only), within
	// Config.MaxInboundRequestBytes; InboundRequestBytesPeak is the most
	// it ever held.
	InboundRequestBytes, InboundRequestBytesPeak int64
	// FrameBytes is the memory frames still arriving hold now, within
	// Config.FrameBudget; FrameBytesPeak is the most they ever held.
	FrameBytes, FrameBytesPeak int64
	// FrameBudgetRefusals counts streams reset because their frame could get
	// no memory; FrameDeadlineResets those whose frame was not complete
	// within Config.FrameTimeout.
	FrameBudgetRefusals, FrameDeadlineResets uint64
	// Busy counts messages refused because a send queue was full.
	Busy uint64
	// QueuedBytes is the cost of the messages queued or written and not yet
	// acknowledged now, within Config.MaxQueuedBytes; QueuedBytesPeak is the
	// most it ever was.
	QueuedBytes, QueuedBytesPeak int
	// SlowPeers counts connections closed because the peer acknowledged
	// nothing within Config.AckTimeout.
	SlowPeers uint64
	// Queues is the number of peers with messages queued, now.
	Queues int
}

// counters holds the live counters behind Stats.
type counters struct {
	poolHits, poolMisses, dials, dialFailures, evictions atomic.Uint64
	busy, slowPeers                                      atomic.Uint64
	msgsOut, msgsIn, bytesOut, bytesIn                   atomic.Uint64

	refusedConns, refusedConnsPerIP, refusedConnsPerPeer atomic.Uint64
	refusedStreams, refusedRequests                      atomic.Uint64
	frameBudgetRefusals, frameDeadlineResets             atomic.Uint64
}

func (c *counters) out(n int) {
	c.msgsOut.Add(1)
	c.bytesOut.Add(uint64(n))
}

func (c *counters) in(n int) {
	c.msgsIn.Add(1)
	c.bytesIn.Add(uint64(n))
}

func (c *counters) snapshot() Stats {
	return Stats{
		PoolHits: c.poolHits.Load(), PoolMisses: c.poolMisses.Load(),
		Busy: c.busy.Load(), SlowPeers: c.slowPeers.Load(),
		Dials: c.dials.Load(), DialFailures: c.dialFailures.Load(), Evictions: c.evictions.Load(),
		MessagesOut: c.msgsOut.Load(), MessagesIn: c.msgsIn.Load(),
		BytesOut: c.bytesOut.Load(), BytesIn: c.bytesIn.Load(),
		RefusedConns: c.refusedConns.Load(), RefusedConnsPerIP: c.refusedConnsPerIP.Load(),
		RefusedConnsPerPeer: c.refusedConnsPerPeer.Load(), RefusedStreams: c.refusedStreams.Load(),
		RefusedRequests:     c.refusedRequests.Load(),
		FrameBudgetRefusals: c.frameBudgetRefusals.Load(), FrameDeadlineResets: c.frameDeadlineResets.Load(),
	}
}
