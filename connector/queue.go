package connector

import (
	"context"
	"fmt"
	"sync"
)

// sendQueues are the outbound message queues, one per peer. SendAsync only
// checks and enqueues; each queue has a worker of its own that finds the
// connection (pooled, dialled or routed) and writes, so a slow or dead peer
// delays only its own messages. A worker takes everything queued at once and
// writes it in one go, which is where batching comes from, and ends when its
// queue is empty. Queues, their lengths and the bytes they hold are bounded;
// a message written stays counted until its peer acknowledges it or the
// connection ends, so a peer that reads and never acknowledges cannot make
// this node hold more than a full queue.
type sendQueues struct {
	mu     sync.Mutex            // guards every field below and the items and counts of every queue
	byKey  map[string]*sendQueue // the queue of each peer with messages queued, or written and not acknowledged
	bytes  int                   // the cost of those messages, in all queues (see cost)
	peak   int                   // the most bytes ever was
	closed bool                  // the connector is closing: nothing more is queued
	// spare holds the emptied item slices of queues whose workers ended,
	// for new queues to start with: a peer's messages often come in
	// bursts, each of which starts a worker. At most maxSpareSlices.
	spare [][]queued
}

// maxSpareSlices is how many emptied item slices sendQueues keeps.
const maxSpareSlices = 64

// sendQueue is one peer's queue, served by one worker while it has items.
// The fields but key are guarded by sendQueues.mu.
type sendQueue struct {
	key     string
	items   []queued // taken whole by the worker
	serving bool     // a worker serves the queue
	// count is the number of the peer's messages queued, being written,
	// or written and not yet acknowledged: what Config.MaxQueue bounds;
	// bytes is their cost, what Config.MaxQueuedBytesPerPeer bounds.
	count, bytes int
}

// queued is one message waiting in a queue.
type queued struct {
	// ctx is the send's own context, carried through the queue to the
	// worker: it holds the send's deadline and cancellation.
	ctx context.Context
	t   Target
	// The message, from its Outbound: kept by value, so that queueing it
	// allocates nothing; the payload and headers are shared by every
	// target of a fan-out, not copied.
	typ     string
	headers map[string][]string
	payload []byte
	route   NATOptions
	done    func(Result)
	// size is the message's cost (see cost), set by enqueue.
	size int
	// held is set once the message is written: its queue space is then
	// the sender's to give back, on acknowledgement (unhold).
	held bool
}

// queueKey is the queue a target's messages go to: the node's, or the
// endpoint's if the target names no node.
func queueKey(t Target) string {
	if t.NodeID != "" {
		return string(t.NodeID)
	}
	return "@" + t.Endpoint
}

// enqueue queues a message for its target's worker, starting one if the
// queue has none. It fails with ErrBusy if a bound is reached.
func (c *Connector) enqueue(q queued) error {
	qs := &c.queues
	qs.mu.Lock()
	defer qs.mu.Unlock()
	if qs.closed {
		return ErrClosed
	}
	q.size = q.cost()
	if qs.bytes+q.size > c.cfg.MaxQueuedBytes {
		return c.busy("%d bytes queued for all peers", qs.bytes)
	}
	key := queueKey(q.t)
	sq := qs.byKey[key]
	switch {
	case sq == nil && len(qs.byKey) >= c.cfg.MaxQueues:
		return c.busy("%d peers have messages queued", len(qs.byKey))
	case sq == nil:
		sq = &sendQueue{key: key}
		qs.byKey[key] = sq
	case sq.count >= c.cfg.MaxQueue:
		return c.busy("%d messages queued or unacknowledged for %s", sq.count, q.t)
	case sq.bytes+q.size > c.cfg.MaxQueuedBytesPerPeer:
		return c.busy("%d bytes queued or unacknowledged for %s", sq.bytes, q.t)
	}
	if !sq.serving {
		if !c.goOwned(func() { c.serveQueue(sq) }) {
			qs.forgetLocked(sq)
			return ErrClosed
		}
		sq.serving = true
		if sq.items == nil {
			sq.items = qs.spareLocked()
		}
	}
	if len(sq.items) == cap(sq.items) {
		// Double, where append grows a large slice by a quarter: a queue
		// filling during a burst is copied about twice, not five times.
		sq.items = append(make([]queued, 0, 2*cap(sq.items)+16), sq.items...)
	}
	sq.items = append(sq.items, q)
	sq.count++
	sq.bytes += q.size
	qs.bytes += q.size
	qs.peak = max(qs.peak, qs.bytes)
	return nil
}

// forgetLocked drops sq from the queues once it holds nothing and has no
// worker.
func (qs *sendQueues) forgetLocked(sq *sendQueue) {
	if sq.count == 0 && !sq.serving && qs.byKey[sq.key] == sq {
		delete(qs.byKey, sq.key)
	}
}

// queuedOverhead is what a waiting message is counted for beyond its
// payload and headers: its queue and pending entries here (about 220 B),
// and what the bridge holds for it while it waits (its NATS message and
// the copy of the header block in it, its send state: about 800 B),
// measured with a peer that never acknowledges. A flood of empty
// messages is so bounded too.
const queuedOverhead = 1024

// cost is the memory q is counted for in the queue budgets: its payload,
// its headers (shared by the targets of a fan-out, as the payload is, but
// held for each) and queuedOverhead.
func (q *queued) cost() int {
	n := len(q.payload) + queuedOverhead
	for k, vs := range q.headers {
		n += len(k)
		for _, v := range vs {
			n += len(v)
		}
	}
	return n
}

// busy counts a refusal for want of queue space and returns it as ErrBusy.
func (c *Connector) busy(format string, args ...any) error {
	c.stats.busy.Add(1)
	return fmt.Errorf("%w: %s", ErrBusy, fmt.Sprintf(format, args...))
}

// take removes and returns everything in sq, or returns nothing if it is
// empty: its worker then ends, and sq is forgotten unless messages written
// still wait for their acknowledgement. done is the slice the previous take
// returned, now cleared, for the queue to reuse.
func (qs *sendQueues) take(sq *sendQueue, done []queued) []queued {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	items := sq.items
	sq.items = nil
	if len(items) == 0 {
		sq.serving = false
		qs.forgetLocked(sq)
		qs.keepLocked(items)
		qs.keepLocked(done)
		return nil
	}
	// While the worker serves, the two slices take turns, whatever their
	// size: a queue that fills while the worker writes a burst does not
	// grow a new slice from nothing each time. Only keepLocked, once the
	// worker ends, holds on to none but small ones.
	sq.items = done[:0]
	return items
}

// maxSpareItems is the largest slice of items a queue keeps for reuse.
const maxSpareItems = 1024

// keepLocked keeps items, empty and cleared, for a new queue, if it has
// room for some and there is room for it.
func (qs *sendQueues) keepLocked(items []queued) {
	if cap(items) > 0 && cap(items) <= maxSpareItems && len(qs.spare) < maxSpareSlices {
		qs.spare = append(qs.spare, items[:0])
	}
}

// spareLocked returns a kept item slice, or nil.
func (qs *sendQueues) spareLocked() []queued {
	n := len(qs.spare)
	if n == 0 {
		return nil
	}
	items := qs.spare[n-1]
	qs.spare[n-1] = nil
	qs.spare = qs.spare[:n-1]
	return items
}

// takeFor removes and returns the items in sq for target t, leaving the others.
func (qs *sendQueues) takeFor(sq *sendQueue, t Target) []queued {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	var out []queued
	kept := sq.items[:0]
	for _, q := range sq.items {
		if q.t == t {
			out = append(out, q)
		} else {
			kept = append(kept, q)
		}
	}
	clear(sq.items[len(kept):])
	sq.items = kept
	return out
}

// release returns the queue space of the items of sq not written (those
// written give theirs back with unhold).
func (qs *sendQueues) release(sq *sendQueue, items []queued) {
	n, bytes := 0, 0
	for i := range items {
		if !items[i].held {
			n++
			bytes += items[i].size
		}
	}
	qs.mu.Lock()
	defer qs.mu.Unlock()
	sq.count -= n
	sq.bytes -= bytes
	qs.bytes -= bytes
}

// unhold returns the queue space, cost bytes, of a message of sq that was
// written and has its outcome.
func (qs *sendQueues) unhold(sq *sendQueue, cost int) {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	sq.count--
	sq.bytes -= cost
	qs.bytes -= cost
	qs.forgetLocked(sq)
}

// close refuses further messages. Workers fail what is left.
func (qs *sendQueues) close() {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	qs.closed = true
}

// load returns the number of peers with messages queued or unacknowledged,
// the bytes they are counted for, and the most bytes ever counted.
func (qs *sendQueues) load() (queues, bytes, peak int) {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	return len(qs.byKey), qs.bytes, qs.peak
}
