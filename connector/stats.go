package connector

import "sync/atomic"

// Stats are the connector's counters since it started.
type Stats struct {
	PoolHits, PoolMisses, Dials, DialFailures, Evictions uint64
	Conns                                                int
	// Busy counts messages refused because a send queue was full.
	Busy uint64
	// Queues is the number of peers with messages queued, now.
	Queues                                     int
	MessagesOut, MessagesIn, BytesOut, BytesIn uint64
}

// counters holds the live counters behind Stats.
type counters struct {
	poolHits, poolMisses, dials, dialFailures, evictions atomic.Uint64
	busy                                                 atomic.Uint64
	msgsOut, msgsIn, bytesOut, bytesIn                   atomic.Uint64
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
		Busy:  c.busy.Load(),
		Dials: c.dials.Load(), DialFailures: c.dialFailures.Load(), Evictions: c.evictions.Load(),
		MessagesOut: c.msgsOut.Load(), MessagesIn: c.msgsIn.Load(),
		BytesOut: c.bytesOut.Load(), BytesIn: c.bytesIn.Load(),
	}
}
