package wire

import (
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Demux takes the non-QUIC packets of one socket (its dispatch is the
// connector's NonQUICHandler, or a TCP link's) and hands each to the part
// that waits for it.
type Demux struct {
	log *slog.Logger

	// OnProbe serves probes (gateways only); onRelay takes relay packets,
	// whole: the relayed packet is pkt[relayOverhead:]. Both are set before
	// the demux gets packets and called on the reading goroutine; pkt is
	// valid only until onRelay returns.
	OnProbe func(from netip.AddrPort, p Probe)
	OnRelay func(from netip.AddrPort, s SessionID, pkt []byte)
	// OnPunch, if set, is told of every punch packet, on the reading
	// goroutine; it must not block.
	OnPunch func(from netip.AddrPort)

	mu      sync.Mutex // guards waiters
	waiters map[[TxnLen]byte]chan ProbeResponse

	Punches atomic.Uint64 // punch packets received
	Dropped atomic.Uint64 // packets that were not ours or malformed
}

// NewDemux returns a demultiplexer with no probe waiting; log receives
// what it drops, at debug level.
func NewDemux(log *slog.Logger) *Demux {
	return &Demux{log: log, waiters: make(map[[TxnLen]byte]chan ProbeResponse)}
}

// Dispatch hands packet b from from to the part that waits for it. It
// never blocks.
func (d *Demux) Dispatch(from netip.AddrPort, b []byte) {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	typ, err := PacketType(b)
	if err != nil {
		d.Dropped.Add(1)
		return
	}
	switch typ {
	case PacketProbe:
		p, err := ParseProbe(b)
		if err != nil || d.OnProbe == nil {
			d.Dropped.Add(1)
			return
		}
		d.OnProbe(from, p)
	case PacketProbeResponse:
		r, err := ParseProbeResponse(b)
		if err != nil {
			d.Dropped.Add(1)
			return
		}
		d.answer(r)
	case PacketPunch:
		d.Punches.Add(1)
		if d.OnPunch != nil {
			d.OnPunch(from)
		}
	case PacketRelay:
		s, _, err := ParseRelay(b)
		if err != nil || d.OnRelay == nil {
			d.Dropped.Add(1)
			return
		}
		d.OnRelay(from, s, b)
	default:
		d.Dropped.Add(1)
	}
}

// Expect registers interest in the response to txn.
func (d *Demux) Expect(txn [TxnLen]byte) chan ProbeResponse {
	ch := make(chan ProbeResponse, 1)
	d.mu.Lock()
	d.waiters[txn] = ch
	d.mu.Unlock()
	return ch
}

// Forget stops waiting for the probe response with transaction txn: one
// that arrives later is dropped.
func (d *Demux) Forget(txn [TxnLen]byte) {
	d.mu.Lock()
	delete(d.waiters, txn)
	d.mu.Unlock()
}

func (d *Demux) answer(r ProbeResponse) {
	d.mu.Lock()
	ch := d.waiters[r.Txn]
	d.mu.Unlock()
	if ch == nil {
		d.Dropped.Add(1)
		return
	}
	select {
	case ch <- r:
	default: // a duplicate answer to a retried probe
	}
}
