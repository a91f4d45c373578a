package natpunch

import (
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
)

// demux takes the non-QUIC packets of one socket (its dispatch is the
// connector's NonQUICHandler, or a TCP link's) and hands each to the part
// that waits for it.
type demux struct {
	log *slog.Logger

	// onProbe serves probes (gateways only); onRelay takes relay packets,
	// whole: the relayed packet is pkt[relayOverhead:]. Both are set before
	// the demux gets packets and called on the reading goroutine; pkt is
	// valid only until onRelay returns.
	onProbe func(from netip.AddrPort, p probe)
	onRelay func(from netip.AddrPort, s sessionID, pkt []byte)

	mu      sync.Mutex // guards waiters
	waiters map[[txnLen]byte]chan probeResponse

	punches atomic.Uint64 // punch packets received
	dropped atomic.Uint64 // packets that were not ours or malformed
}

func newDemux(log *slog.Logger) *demux {
	return &demux{log: log, waiters: make(map[[txnLen]byte]chan probeResponse)}
}

// dispatch hands packet b from from to the part that waits for it. It
// never blocks.
func (d *demux) dispatch(from netip.AddrPort, b []byte) {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	typ, err := packetType(b)
	if err != nil {
		d.dropped.Add(1)
		return
	}
	switch typ {
	case typeProbe:
		p, err := parseProbe(b)
		if err != nil || d.onProbe == nil {
			d.dropped.Add(1)
			return
		}
		d.onProbe(from, p)
	case typeProbeResponse:
		r, err := parseProbeResponse(b)
		if err != nil {
			d.dropped.Add(1)
			return
		}
		d.answer(r)
	case typePunch:
		d.punches.Add(1)
	case typeRelay:
		s, _, err := parseRelay(b)
		if err != nil || d.onRelay == nil {
			d.dropped.Add(1)
			return
		}
		d.onRelay(from, s, b)
	default:
		d.dropped.Add(1)
	}
}

// expect registers interest in the response to txn.
func (d *demux) expect(txn [txnLen]byte) chan probeResponse {
	ch := make(chan probeResponse, 1)
	d.mu.Lock()
	d.waiters[txn] = ch
	d.mu.Unlock()
	return ch
}

func (d *demux) forget(txn [txnLen]byte) {
	d.mu.Lock()
	delete(d.waiters, txn)
	d.mu.Unlock()
}

func (d *demux) answer(r probeResponse) {
	d.mu.Lock()
	ch := d.waiters[r.txn]
	d.mu.Unlock()
	if ch == nil {
		d.dropped.Add(1)
		return
	}
	select {
	case ch <- r:
	default: // a duplicate answer to a retried probe
	}
}
