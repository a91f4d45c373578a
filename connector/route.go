package connector

import (
	"context"
	"fmt"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// NATOptions steer NAT traversal for one message (Outbound.Route), like the
// options of macula's send_message_nat_aware. They matter only when the
// pool has no connection to the peer and no known address of it works.
type NATOptions struct {
	// Endpoint: try the peer here first ("host:port").
	Endpoint string
	// RelayEndpoint relays through this gateway ("NODEID@host:port" or
	// "host:port") instead of the configured ones.
	RelayEndpoint string
	// SkipHolePunch goes straight from a failed direct dial to the relay.
	SkipHolePunch bool
}

// ReservedTypePrefix starts the message types that NAT traversal's control
// messages use between bridges and gateways. The bridge refuses user
// messages whose type starts with it, so nothing published on NATS can pose
// as a gateway's message.
const ReservedTypePrefix = "$pb."

// A Router finds a path to a node the pool has no connection for and no
// reachable address: NAT traversal. On success it returns the pooled
// connection it found: one DialPath made, or one WaitPath saw pooled (a
// connection the peer made, or one handed to Adopt).
type Router interface {
	Route(ctx context.Context, id identity.NodeID, opts NATOptions) (Conn, error)
}

// SetRouter installs NAT traversal for targets that name only a node ID.
func (c *Connector) SetRouter(r Router) { c.router.Store(&r) }

func (c *Connector) getRouter() Router {
	if r := c.router.Load(); r != nil {
		return *r
	}
	return nil
}

// route asks the router for a path to id and returns the connection it made.
// Concurrent callers share one attempt, steered by the first one's opts.
func (c *Connector) route(ctx context.Context, id identity.NodeID, opts NATOptions, cause error) (*peerConn, error) {
	r := c.getRouter()
	if r == nil || id == "" {
		return nil, cause
	}
	key := "route:" + string(id)
	call, leader := c.pool.startDial(key)
	if leader {
		conn, err := r.Route(ctx, id, opts)
		pc := conn.pc
		if err == nil && (pc == nil || pc.id != id) {
			pc, err = nil, fmt.Errorf("%w: route to %s returned no connection to it", ErrUnreachable, id.Short())
		}
		c.pool.finishDial(key, call, pc, err)
	}
	select {
	case <-call.done:
		return call.pc, call.err
	case <-ctx.Done():
		return nil, timeoutOr(ctx, ctx.Err())
	}
}
