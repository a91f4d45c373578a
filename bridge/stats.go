package bridge

import "sync/atomic"

// Stats are the bridge's counters since it was made.
type Stats struct {
	// Forwarded counts outbound messages a peer acknowledged and outbound
	// requests a peer answered, one per peer.
	Forwarded uint64
	// Failed counts outbound messages and requests that failed, one per
	// peer, including those refused before anything was sent. Each failure
	// was answered on the reply subject or, without one, logged.
	Failed uint64
	// Inbound counts messages and requests from peers delivered to NATS.
	Inbound uint64
	// InboundFailed counts messages and requests from peers that could not
	// be delivered; the peer got the error.
	InboundFailed uint64
	// Forbidden counts messages and requests from peers refused because
	// the peer may not send their type here (Config.Access); they are
	// counted in InboundFailed too.
	Forbidden uint64
	// Dropped counts, by reason, the outbound messages without a reply
	// subject that failed: no one else learned of them. They are counted
	// in Failed too.
	Dropped Dropped
	// InFlight is the outbound requests waiting for their peers and the
	// outbound messages waiting for acknowledgement, now.
	InFlight int
}

// counters holds the live counters behind Stats.
type counters struct {
	forwarded, failed, inbound, inboundFailed, forbidden atomic.Uint64
	drops                                                dropCounters
}

// Stats returns a snapshot of the counters.
func (b *Bridge) Stats() Stats {
	return Stats{
		Forwarded:     b.stats.forwarded.Load(),
		Failed:        b.stats.failed.Load(),
		Inbound:       b.stats.inbound.Load(),
		InboundFailed: b.stats.inboundFailed.Load(),
		Forbidden:     b.stats.forbidden.Load(),
		Dropped:       b.stats.drops.snapshot(),
		InFlight:      b.requests.len() + b.sends.len(),
	}
}
