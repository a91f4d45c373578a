package connector

import (
	"context"
	"errors"
	"fmt"

	"github.com/peerbridge/peerbridge/codec"
)

// serveQueue is sq's worker: it sends what is queued, batch after batch,
// and ends once the queue is empty.
func (c *Connector) serveQueue(sq *sendQueue) {
	var items []queued
	w, _ := c.scratch.Get().(*batchScratch)
	if w == nil {
		w = new(batchScratch)
	}
	defer c.scratch.Put(w)
	for {
		if items = c.queues.take(sq, items); len(items) == 0 {
			return
		}
		c.sendBatch(sq, items, w)
		c.queues.release(sq, items)
		clear(items)
	}
}

// batchScratch is a worker's space for encoding a batch, reused from one
// batch to the next.
type batchScratch struct {
	live    []*queued
	frames  []codec.Frame
	fs      []*codec.Frame
	ps      []pending
	refused []error
}

// reset sizes the scratch for n messages, cleared.
func (w *batchScratch) reset(n int) {
	w.frames = resize(w.frames, n)
	w.fs = resize(w.fs, n)
	w.ps = resize(w.ps, n)
	w.refused = resize(w.refused, n)
}

// resize returns s with length n and every element zero, reusing its array
// if it is large enough.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// sendBatch sends items, grouped in runs of the same target: a queue holds
// one node's messages, with or without an endpoint hint.
func (c *Connector) sendBatch(sq *sendQueue, items []queued, w *batchScratch) {
	for len(items) > 0 {
		n := 1
		for n < len(items) && items[n].t == items[0].t {
			n++
		}
		c.sendRun(sq, items[:n], w)
		items = items[n:]
	}
}

// sendRun sends items, all to one target, on one connection and in one
// write. If no connection can be had, the items queued meanwhile for that
// target fail with them: they would wait for the same dead peer.
func (c *Connector) sendRun(sq *sendQueue, items []queued, w *batchScratch) {
	live := w.live[:0]
	defer func() { clear(w.live[:cap(w.live)]) }()
	for i := range items {
		q := &items[i]
		if err := q.ctx.Err(); err != nil {
			q.done(Result{Target: q.t, Err: timeoutOr(q.ctx, fmt.Errorf("connector: queued for %s: %w", q.t, err))})
			continue
		}
		live = append(live, q)
	}
	w.live = live
	if len(live) == 0 {
		return
	}
	for attempt := 0; len(live) > 0; attempt++ {
		first := live[0]
		pc, _, err := c.conn(first.ctx, first.t, first.route)
		if err != nil {
			if first.ctx.Err() == nil {
				more := c.queues.takeFor(sq, first.t)
				for i := range more {
					live = append(live, &more[i])
				}
				defer c.queues.release(sq, more)
			}
			failAll(live, err)
			return
		}
		live = c.writeRun(pc, sq, live, attempt > 0, w)
	}
}

// writeRun writes items, queued in sq, to pc in one go (in writes of up to
// 64 KiB). Every item's done is called, now or once the peer acknowledged
// it, except for items not written where a retry on another connection may
// succeed: unless final, writeRun returns those and calls none of their
// dones. The items written are marked held: the sender gives back their
// queue space.
func (c *Connector) writeRun(pc *peerConn, sq *sendQueue, items []*queued, final bool, w *batchScratch) (retry []*queued) {
	w.reset(len(items))
	frames, fs, ps, refused := w.frames, w.fs, w.ps, w.refused
	ctx := items[0].ctx
	for i, q := range items {
		frames[i] = codec.Frame{Kind: codec.KindSend, Type: q.typ, Headers: q.headers, Payload: q.payload}
		fs[i] = &frames[i]
		ps[i] = pending{t: q.t, done: q.done, q: sq, cost: q.size, deadline: c.deadline(q.ctx)}
		if later(q.ctx, ctx) {
			ctx = q.ctx
		}
	}
	err := pc.out.writeBatch(ctx, fs, ps, refused)
	var ns *notSentError
	retrying := err != nil && !final && errors.As(err, &ns)
	for i := range ps {
		d := ps[i].done
		switch {
		case d == nil: // written: the sender calls it
			items[i].held = true
		case refused[i] != nil:
			d(Result{Target: ps[i].t, Err: refused[i]})
		case retrying:
			retry = append(retry, items[i])
		case err != nil:
			d(Result{Target: ps[i].t, Err: err})
		}
	}
	clear(ps)
	return retry
}

// later reports whether a's deadline is after b's.
func later(a, b context.Context) bool {
	da, _ := a.Deadline()
	db, _ := b.Deadline()
	return da.After(db)
}

func failAll(items []*queued, err error) {
	for _, q := range items {
		q.done(Result{Target: q.t, Err: err})
	}
}
