package connector

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/peerbridge/peerbridge/codec"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// Config configures a Connector. The zero value of every field means the
// default named in its comment.
type Config struct {
	// ListenAddr is the UDP address to listen and dial from. Empty means
	// "127.0.0.1:0" (an ephemeral loopback port).
	ListenAddr string
	// MaxPayload is the largest payload sent or accepted. Zero means
	// codec.DefaultMaxPayload (1 MiB, like NATS's max_payload).
	MaxPayload int
	// DefaultTimeout applies to sends and requests whose context has no
	// deadline. It also caps how long an inbound request is served, whatever
	// timeout its sender asks for, and how long an answer may take to
	// write. Zero means 10 s.
	DefaultTimeout time.Duration
	// DialTimeout bounds a QUIC handshake. Zero means 5 s. A caller waits
	// for a dial at most a quarter of the time it has left (at least half
	// of it, up to a second), if that is shorter, and then fails with
	// ErrUnreachable; the dial goes on for the next caller.
	DialTimeout time.Duration
	// IdleTimeout closes connections that carried no message for this long.
	// Zero means 2 minutes.
	IdleTimeout time.Duration
	// MaxConns is the most inbound connections at once, handshakes
	// included; past it new ones are refused (and counted in Stats), and no
	// connection is evicted to make room. Connections this node dials do not
	// count. Zero means 1,000.
	MaxConns int
	// MaxConnsPerIP is the most inbound connections at once from one IP
	// address (one /64 for IPv6). Zero means 32.
	MaxConnsPerIP int
	// MaxConnsPerPeer is the most connections at once with one node ID,
	// either way; past it the peer's new inbound ones are refused. Zero
	// means 4.
	MaxConnsPerPeer int
	// ReverifyAfter is how long a pooled connection may be silent before it
	// is pinged ahead of its next use. Zero means 10 s; negative disables it.
	ReverifyAfter time.Duration
	// MaxStreams is how many concurrent streams (requests, message streams)
	// a peer may have open on one connection. Zero means 256.
	MaxStreams int
	// MaxInboundStreams is the most streams peers may have open at once
	// across all connections; past it new streams are reset. Zero means
	// 16,384.
	MaxInboundStreams int
	// FrameBudget is the most memory, in bytes, that frames still arriving
	// may hold across all connections. A stream whose frame cannot get
	// memory is answered 503 and reset. Zero means 64 MiB (and at least
	// ConnFrameBudget).
	FrameBudget int
	// ConnFrameBudget is FrameBudget for one connection. Zero means 16 MiB
	// (and at least one frame of MaxPayload); it may not be less than that.
	ConnFrameBudget int
	// FrameTimeout is how long a frame may take to arrive in full once its
	// length prefix has; a stream whose frame is late is answered 504 and
	// reset. Zero means 20 s.
	FrameTimeout time.Duration
	// MaxInboundRequests is the most requests from peers being served at
	// once; past it requests are answered 503 at once. Zero means 1,024.
	MaxInboundRequests int
	// MaxInboundRequestsPerPeer is MaxInboundRequests for one node ID. Zero
	// means 128.
	MaxInboundRequestsPerPeer int
	// MaxInboundRequestBytes is the most payload bytes that inbound
	// requests being served may hold at once; past it a request is answered
	// 503 at once. Payloads up to 64 KiB are not counted (MaxInboundRequests
	// bounds them). Zero means 128 MiB (and at least MaxPayload); it may not
	// be less than MaxPayload.
	MaxInboundRequestBytes int
	// MaxQueue is how many messages may wait in one peer's send queue;
	// past it sends to that peer fail with ErrBusy. Zero means 1,048,576:
	// MaxQueuedBytesPerPeer is the bound that decides.
	MaxQueue int
	// MaxQueues is how many peers may have messages queued at once; past
	// it sends to further peers fail with ErrBusy. Zero means 4096.
	MaxQueues int
	// MaxQueuedBytesPerPeer bounds the memory of the messages waiting in
	// one peer's send queue: their payloads and headers plus a fixed 1 KiB
	// each, what a waiting message holds besides. Past it sends to that
	// peer fail with ErrBusy. Zero means 256 MiB, room for a burst that
	// nats-server's 64 MiB max_pending holds for one connection, or half
	// of MaxQueuedBytes if that is less: one peer cannot take all of it.
	MaxQueuedBytesPerPeer int
	// MaxQueuedBytes bounds the same for all send queues together. Zero
	// means 512 MiB: room for two peers' full budgets. A message written
	// to its peer counts against both, and against MaxQueue, until the
	// peer acknowledges it or the connection ends.
	MaxQueuedBytes int
	// AckTimeout is how long a peer may leave a message written to it
	// unacknowledged. A peer that does not acknowledge in time loses its
	// connection, as nats-server cuts off a slow consumer, and the sends
	// waiting on it fail with ErrSlowPeer. Zero means 30 s.
	AckTimeout time.Duration
	// KeepAlive is the QUIC keep-alive period, which also keeps NAT mappings
	// open. Zero means 15 s; negative disables it.
	KeepAlive time.Duration
	// SourceIP, if set, names the IP an inbound connection from a local
	// address stands for, where that address is not the remote host's own:
	// a gateway's TCP relay hands each client's datagrams in from a
	// loopback socket of its own. MaxConnsPerIP then counts the client's
	// real IP (ratelimit.IPKey), not one loopback address per client.
	SourceIP func(netip.AddrPort) (netip.Addr, bool)
	// MayDial, if set, is asked before a new connection to a node is
	// dialled or routed; an error (an *identity.NotAllowedError) fails the
	// send without a packet sent. Who may connect at all is the identity's
	// Policy, checked in every handshake.
	MayDial func(identity.NodeID) error
}

func (c *Config) populate() {
	if c.ListenAddr == "" {
		c.ListenAddr = "127.0.0.1:0"
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = codec.DefaultMaxPayload
	}
	setDefault(&c.DefaultTimeout, 10*time.Second)
	setDefault(&c.DialTimeout, 5*time.Second)
	setDefault(&c.IdleTimeout, DefaultIdleTimeout)
	setDefault(&c.ReverifyAfter, 10*time.Second)
	setDefault(&c.KeepAlive, DefaultKeepAlive)
	setDefault(&c.FrameTimeout, DefaultFrameTimeout)
	setDefault(&c.AckTimeout, DefaultAckTimeout)
	setDefaultInt(&c.MaxConns, DefaultMaxConns)
	setDefaultInt(&c.MaxConnsPerIP, DefaultMaxConnsPerIP)
	setDefaultInt(&c.MaxConnsPerPeer, DefaultMaxConnsPerPeer)
	setDefaultInt(&c.MaxStreams, DefaultMaxStreams)
	setDefaultInt(&c.MaxInboundStreams, 16384)
	setDefaultInt(&c.MaxInboundRequests, DefaultMaxInboundRequests)
	setDefaultInt(&c.MaxInboundRequestsPerPeer, DefaultMaxInboundRequestsPerPeer)
	setDefaultInt(&c.ConnFrameBudget, max(16<<20, codec.MaxFrameSize(max(c.MaxPayload, 0))))
	setDefaultInt(&c.FrameBudget, max(64<<20, c.ConnFrameBudget))
	setDefaultInt(&c.MaxInboundRequestBytes, max(128<<20, c.MaxPayload))
	setDefaultInt(&c.MaxQueue, DefaultMaxQueue)
	setDefaultInt(&c.MaxQueues, DefaultMaxQueues)
	setDefaultInt(&c.MaxQueuedBytes, DefaultMaxQueuedBytes)
	setDefaultInt(&c.MaxQueuedBytesPerPeer, min(DefaultMaxQueuedBytesPerPeer, c.MaxQueuedBytes/2))
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

func setDefaultInt(n *int, v int) {
	if *n == 0 {
		*n = v
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.MaxPayload < 0 {
		errs = append(errs, fmt.Errorf("MaxPayload %d is negative", c.MaxPayload))
	}
	if c.DefaultTimeout < 0 || c.DialTimeout < 0 || c.IdleTimeout < 0 || c.FrameTimeout < 0 || c.AckTimeout < 0 {
		errs = append(errs, errors.New("timeouts must not be negative"))
	}
	if min(c.MaxConns, c.MaxConnsPerIP, c.MaxConnsPerPeer, c.MaxStreams, c.MaxInboundStreams,
		c.MaxInboundRequests, c.MaxInboundRequestsPerPeer, c.MaxInboundRequestBytes) < 0 {
		errs = append(errs, errors.New("connection, stream and request limits must not be negative"))
	}
	if c.MaxInboundRequestBytes < c.MaxPayload {
		errs = append(errs, fmt.Errorf("MaxInboundRequestBytes %d is less than MaxPayload %d", c.MaxInboundRequestBytes, c.MaxPayload))
	}
	if frame := codec.MaxFrameSize(max(c.MaxPayload, 0)); c.ConnFrameBudget < frame || c.FrameBudget < c.ConnFrameBudget {
		errs = append(errs, fmt.Errorf("frame budgets (ConnFrameBudget %d, FrameBudget %d) must hold one frame of MaxPayload (%d bytes), and FrameBudget at least ConnFrameBudget",
			c.ConnFrameBudget, c.FrameBudget, frame))
	}
	if c.MaxQueue < 0 || c.MaxQueues < 0 || c.MaxQueuedBytes < 0 || c.MaxQueuedBytesPerPeer < 0 {
		errs = append(errs, errors.New("MaxQueue, MaxQueues, MaxQueuedBytes and MaxQueuedBytesPerPeer must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("connector: invalid config: %w", err)
	}
	return nil
}
