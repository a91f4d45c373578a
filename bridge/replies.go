package bridge

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
)

// replyMux carries the bridge's requests to local services (a peer's
// request, answered by a NATS service here) over the hot path, as nats.go's
// request mux does: one subscription to a wildcard inbox of the bridge's
// own, and a token per request at the end of its reply subject. A reply
// stays a raw header block and a payload: no header map is made for it
// unless the peer is sent headers.
type replyMux struct {
	prefix string // "_INBOX.<random>.", where every reply subject starts

	next atomic.Uint64 // the last token handed out

	mu      sync.Mutex             // guards waiting
	waiting map[string]chan answer // by token, one per request in flight: the bridge's inbound tracker bounds them
}

// newReplyMux returns a mux with an inbox of its own.
func newReplyMux() *replyMux {
	return &replyMux{prefix: "_INBOX." + rand.Text() + ".", waiting: make(map[string]chan answer)}
}

// subject is the subscription that takes every reply.
func (r *replyMux) subject() string { return r.prefix + "*" }

// deliver hands a reply to the request waiting for it; replies nobody
// waits for (any more), and every reply after a request's first, are
// dropped. It runs on the hot path's reader, so it copies what it keeps.
func (r *replyMux) deliver(m *natsconn.Msg) {
	tok, ok := bytes.CutPrefix(m.Subject, []byte(r.prefix))
	if !ok {
		return
	}
	r.mu.Lock()
	ch := r.waiting[string(tok)]
	r.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case ch <- answer{header: bytes.Clone(m.Header), data: bytes.Clone(m.Data)}:
	default: // it has its reply: the first one wins, as in a NATS request
	}
}

// request publishes data with header on subject through p and waits for
// the reply, until ctx ends. A publish that finds the connection's buffer
// full waits for the server to read it, as long as ctx allows
// (publishWhenRead).
func (r *replyMux) request(ctx context.Context, p hotPath, subject string, header, data []byte) (answer, error) {
	reply := r.prefix + strconv.FormatUint(r.next.Add(1), 10)
	tok := reply[len(r.prefix):]
	ch := make(chan answer, 1)
	r.mu.Lock()
	r.waiting[tok] = ch
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.waiting, tok)
		r.mu.Unlock()
	}()
	err := p.publish(subject, reply, header, data)
	if errors.Is(err, natsconn.ErrPendingFull) {
		err = publishWhenRead(ctx, p, subject, reply, header, data)
	}
	if err != nil {
		return answer{}, err
	}
	select {
	case a := <-ch:
		return a, nil
	case <-ctx.Done():
		return answer{}, ctx.Err()
	}
}

// noResponders reports whether h is the server's answer that nobody
// serves the subject: the status 503 in the version line (the NATS
// protocol), or as a Status header (nats.go's map, made a block again).
func noResponders(h natsconn.Header) bool {
	if code, _ := h.Status(); string(code) == "503" {
		return true
	}
	v, ok := h.Get("Status")
	return ok && string(v) == "503"
}
