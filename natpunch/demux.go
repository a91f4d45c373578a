package natpunch

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/quic-go/quic-go"
)

// demux reads the non-QUIC packets of one QUIC transport (the only reader
// it may have) and hands each to the part that waits for it.
type demux struct {
	tr  *quic.Transport
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

func newDemux(tr *quic.Transport, log *slog.Logger) *demux {
	return &demux{tr: tr, log: log, waiters: make(map[[txnLen]byte]chan probeResponse)}
}

// run reads until ctx ends or the transport closes. A connector's socket
// does not need it: its handler is dispatch (connector.SetNonQUICHandler),
// which takes the packets before quic-go's short queue of them.
func (d *demux) run(ctx context.Context) {
	buf := make([]byte, 64<<10)
	for {
		n, addr, err := d.tr.ReadNonQUICPacket(ctx, buf)
		if err != nil {
			return
		}
		ua, ok := addr.(*net.UDPAddr)
		if !ok {
			d.dropped.Add(1)
			continue
		}
		d.dispatch(ua.AddrPort(), buf[:n])
	}
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
