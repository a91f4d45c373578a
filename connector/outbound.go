package connector

import (
	"context"
	"time"
)

// Outbound is one message or request to send: every argument of Send,
// SendAsync, Request and SendMany but the context. A new option is a new
// field here, not a new parameter in every caller.
type Outbound struct {
	// Target is the peer (SendMany takes its targets apart and ignores it).
	// An endpoint next to a node ID is a hint for this message only: it is
	// dialled if the pool has no connection to the node, and becomes the
	// node's address only once the peer there proved the node ID.
	Target Target
	// Type is the message type.
	Type string
	// Payload is the body. It is not copied: it must not change until the
	// send is done.
	Payload []byte
	// Headers travel to the peer with the message; they are not copied.
	Headers map[string][]string
	// Timeout bounds the send or request; zero means the context's deadline
	// or, without one, Config.DefaultTimeout.
	Timeout time.Duration
	// Route steers NAT traversal, if the peer needs it.
	Route NATOptions
}

// withTimeout returns ctx bounded by o's timeout, or the default one if
// neither o nor ctx has one.
func (c *Connector) withTimeout(ctx context.Context, o *Outbound) (context.Context, context.CancelFunc) {
	if o.Timeout > 0 {
		return context.WithTimeout(ctx, o.Timeout)
	}
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.cfg.DefaultTimeout)
}
