package natpunch

import "time"

// GatewayStats is a snapshot of a gateway's state and counters.
type GatewayStats struct {
	// Registrations is how many bridges are registered and not expired.
	Registrations int
	// RelaySessions is how many relay sessions are open.
	RelaySessions int
	// RelayPackets counts packets relayed since start.
	RelayPackets uint64
	// RelayBytes counts the bytes of the packets relayed since start.
	RelayBytes uint64
	// RelayDropped counts packets not relayed: no such session, over a
	// relay limit, or the send failed.
	RelayDropped uint64
}

// Stats returns a snapshot of the gateway's state and counters.
func (g *Gateway) Stats() GatewayStats {
	sessions, forwarded, dropped := g.relay.stats()
	return GatewayStats{
		Registrations: g.reg.live(time.Now()),
		RelaySessions: sessions,
		RelayPackets:  forwarded,
		RelayBytes:    g.relay.bytes.Load(),
		RelayDropped:  dropped,
	}
}

// live counts the records not expired at now.
func (r *registry) live(now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.nodes {
		if !now.After(rec.expires) {
			n++
		}
	}
	return n
}
