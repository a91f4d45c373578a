package natpunch

import (
	"net/netip"
	"sync"
)

// heard tells running punches that a punch packet came from one of the
// hosts they punch toward: the peer's NAT has sent toward this node and
// this node's NAT let the packet in, so the peer's packets have left its
// NAT and this side may send packets that reach it. Hosts are matched by
// IP address alone: a NAT that maps each destination to a new port sends
// from another port than the one the gateway saw.
type heard struct {
	mu      sync.Mutex // guards waiting
	waiting map[netip.Addr][]*punchWaiter
}

// punchWaiter is one punch's wait; ch is closed at the first packet from any
// of its addresses.
type punchWaiter struct {
	addrs []netip.AddrPort
	ch    chan struct{}
	once  sync.Once
}

// listen starts waiting for a punch packet from the host of any of addrs. The wait's
// channel closes when one comes; stop ends the wait and must be called.
func (h *heard) listen(addrs []netip.AddrPort) (ch <-chan struct{}, stop func()) {
	w := &punchWaiter{addrs: addrs, ch: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.waiting == nil {
		h.waiting = make(map[netip.Addr][]*punchWaiter)
	}
	for _, a := range addrs {
		h.waiting[a.Addr()] = append(h.waiting[a.Addr()], w)
	}
	return w.ch, func() { h.forget(w) }
}

// forget removes w from every address it waits on.
func (h *heard) forget(w *punchWaiter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ap := range w.addrs {
		a := ap.Addr()
		ws := h.waiting[a]
		for i, x := range ws {
			if x == w {
				ws = append(ws[:i:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(h.waiting, a)
		} else {
			h.waiting[a] = ws
		}
	}
}

// punchFrom is the demux's OnPunch: it ends the waits on from. It never
// blocks.
func (h *heard) punchFrom(from netip.AddrPort) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range h.waiting[from.Addr()] {
		w.once.Do(func() { close(w.ch) })
	}
}
