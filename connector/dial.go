package connector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// conn returns a live connection to t: the pooled one, or a new dial shared
// with any concurrent callers, or a path NAT traversal finds (steered by
// route). reused reports a pool hit. An endpoint hint next to a node ID is
// dialled only if the node has no pooled connection, and is the node's
// address from then on only once the peer there proved the node ID.
func (c *Connector) conn(ctx context.Context, t Target, route NATOptions) (pc *peerConn, reused bool, err error) {
	if c.cancel == nil || c.ctx.Err() != nil {
		return nil, false, ErrClosed
	}
	pc, endpoint := c.pool.lookup(t)
	if pc != nil && pc.alive() {
		if pc.leaving.Load() {
			return nil, false, fmt.Errorf("%w: %s", ErrGoingAway, pc.id.Short())
		}
		if c.verified(ctx, pc) {
			c.stats.poolHits.Add(1)
			return pc, true, nil
		}
	}
	c.stats.poolMisses.Add(1)
	if t.NodeID != "" && c.cfg.MayDial != nil {
		if err := c.cfg.MayDial(t.NodeID); err != nil {
			return nil, false, err
		}
	}
	if endpoint == "" {
		pc, err = c.route(ctx, t.NodeID, route, fmt.Errorf("%w: no address known for %s", ErrUnknownPeer, t.NodeID))
		return pc, false, err
	}
	pc, err = c.dialShared(ctx, t.NodeID, endpoint)
	if err != nil && t.Endpoint == "" && !isAny(err, ErrIdentityMismatch, ErrNotAllowed, ErrRefusedByPeer) && ctx.Err() == nil {
		// A known address failed: NAT traversal may still find a path.
		if routed, rerr := c.route(ctx, t.NodeID, route, err); rerr == nil {
			return routed, false, nil
		}
	}
	return pc, false, err
}

// verified pings a connection that has been silent for longer than
// Config.ReverifyAfter and closes it if the ping fails, so nothing is
// written to a connection that died quietly (a peer that restarted answers
// the ping with a stateless reset).
func (c *Connector) verified(ctx context.Context, pc *peerConn) bool {
	if c.cfg.ReverifyAfter < 0 || c.now()-pc.lastRecv.Load() < int64(c.cfg.ReverifyAfter) {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()
	if err := pc.ping(ctx); err != nil {
		c.log.Debug("pooled connection failed its ping", "peer", pc.id.Short(), "err", err)
		pc.close(codeDead, "ping failed")
		return false
	}
	return true
}

// dialShared dials endpoint once for all concurrent callers asking for the
// same node there. The dial belongs to the connector, not to the caller that
// started it: it runs for Config.DialTimeout whatever the callers' deadlines,
// so one caller with a short timeout does not fail the others, and a
// connection that comes up after it gave up is pooled for the next. A caller
// waits for it only its dial budget (see dialBudget) and then fails with
// ErrUnreachable, so that it can still answer within its own timeout.
func (c *Connector) dialShared(ctx context.Context, want identity.NodeID, endpoint string) (*peerConn, error) {
	key := "dial:" + string(want) + "@" + endpoint
	call, leader := c.pool.startDial(key)
	if leader {
		started := c.goOwned(func() {
			pc, err := c.dial(c.ctx, want, endpoint, PathDirect)
			c.pool.finishDial(key, call, pc, err)
		})
		if !started {
			c.pool.finishDial(key, call, nil, ErrClosed)
		}
	}
	var expired <-chan time.Time // the dial's own timeout is budget enough
	budget := c.dialBudget(ctx)
	if budget < c.cfg.DialTimeout {
		timer := time.NewTimer(budget)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case <-call.done:
		return call.pc, call.err
	case <-expired:
		return nil, fmt.Errorf("%w: no handshake with %s within %v", ErrUnreachable, endpoint, budget.Round(time.Millisecond))
	case <-ctx.Done():
		return nil, timeoutOr(ctx, ctx.Err())
	}
}

// dialBudget is how long a caller waits for a dial: Config.DialTimeout, but
// at most a quarter of the time the caller has left (at least half of it,
// up to a second), so that an unreachable peer is reported while the caller
// still waits for an answer. With the bridge's default timeouts (4 s for a
// request someone waits for, 5 s for a dial) that is 1 s, well inside the
// 5 s a stock NATS client waits.
func (c *Connector) dialBudget(ctx context.Context) time.Duration {
	d, ok := ctx.Deadline()
	if !ok {
		return c.cfg.DialTimeout
	}
	left := time.Until(d)
	return max(min(c.cfg.DialTimeout, max(left/4, min(left/2, time.Second))), time.Millisecond)
}

// dial makes a new connection to endpoint from the connector's socket. If
// want is set the peer must prove that node ID.
func (c *Connector) dial(ctx context.Context, want identity.NodeID, endpoint string, path Path) (*peerConn, error) {
	c.stats.dials.Add(1)
	addr, err := resolveUDP(ctx, endpoint)
	if err != nil {
		c.stats.dialFailures.Add(1)
		return nil, err
	}
	var refused identity.Refusal
	dctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()
	qc, err := c.tr.Dial(dctx, addr, c.id.ClientTLS(want, &refused), c.quicConf)
	if err != nil {
		c.stats.dialFailures.Add(1)
		if err := refusal(&refused, err); err != nil {
			return nil, err
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: dialling %s: %w", ErrTimeout, endpoint, err)
		}
		return nil, fmt.Errorf("%w: dialling %s: %w", ErrUnreachable, endpoint, err)
	}
	return c.adoptAt(qc, path, endpoint, true)
}

func resolveUDP(ctx context.Context, endpoint string) (*net.UDPAddr, error) {
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		return nil, fmt.Errorf("%w: endpoint %q: %w", ErrBadTarget, endpoint, err)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return nil, fmt.Errorf("%w: resolving %q: %w", ErrUnreachable, host, err)
	}
	pnum, err := net.DefaultResolver.LookupPort(ctx, "udp", port)
	if err != nil {
		return nil, fmt.Errorf("%w: port %q: %w", ErrBadTarget, port, err)
	}
	return &net.UDPAddr{IP: ips[0].Unmap().AsSlice(), Port: pnum}, nil
}

// alertBadCertificate is the TLS alert a peer sends when its policy
// refuses this node's certificate (see identity.Policy); QUIC carries it as
// CRYPTO_ERROR 0x100 + 42.
const alertBadCertificate = 42

// refusal returns why a dial's handshake was refused, or nil: by this
// side (the peer's key was not the one asked for, or this node's policy
// does not accept it), or by the peer, whose policy refused this node.
// Both refusals match errors the bridge answers with their own codes.
func refusal(refused *identity.Refusal, err error) error {
	if r := refused.Err(); r != nil {
		return r
	}
	return remoteRefusal(err)
}

// RefusedByPeer reports whether err says the peer refused this node in the
// handshake, however far up the error travelled.
func RefusedByPeer(err error) bool {
	return errors.Is(err, ErrRefusedByPeer) || remoteRefusal(err) != nil
}

// remoteRefusal returns ErrRefusedByPeer for a connection the peer ended
// because it would not accept this node, or nil.
func remoteRefusal(err error) error {
	var te *quic.TransportError
	if errors.As(err, &te) && te.Remote && te.ErrorCode == quic.TransportErrorCode(0x100+alertBadCertificate) {
		return fmt.Errorf("%w: %w", ErrRefusedByPeer, err)
	}
	return nil
}

func isAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
