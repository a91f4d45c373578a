package connector

import "time"

// Defaults for the zero values of Config that commands show as their flags'
// defaults.
const (
	// DefaultIdleTimeout is Config.IdleTimeout's default.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultFrameTimeout is Config.FrameTimeout's default.
	DefaultFrameTimeout = 20 * time.Second
	// DefaultAckTimeout is Config.AckTimeout's default.
	DefaultAckTimeout = 30 * time.Second
	// DefaultMaxConns is Config.MaxConns's default.
	DefaultMaxConns = 1000
	// DefaultMaxConnsPerIP is Config.MaxConnsPerIP's default.
	DefaultMaxConnsPerIP = 32
	// DefaultMaxConnsPerPeer is Config.MaxConnsPerPeer's default.
	DefaultMaxConnsPerPeer = 4
	// DefaultMaxStreams is Config.MaxStreams's default.
	DefaultMaxStreams = 256
	// DefaultMaxInboundRequests is Config.MaxInboundRequests's default.
	DefaultMaxInboundRequests = 1024
	// DefaultMaxInboundRequestsPerPeer is Config.MaxInboundRequestsPerPeer's default.
	DefaultMaxInboundRequestsPerPeer = 128
	// DefaultMaxQueue is Config.MaxQueue's default: high enough that the
	// byte budgets decide, a 64 MiB burst of tiny messages fitting.
	DefaultMaxQueue = 1 << 20
	// DefaultMaxQueues is Config.MaxQueues's default.
	DefaultMaxQueues = 4096
	// DefaultMaxQueuedBytesPerPeer is Config.MaxQueuedBytesPerPeer's
	// default. nats-server buffers 64 MiB of wire bytes per connection
	// (max_pending); a waiting message here holds about 1 KiB beyond its
	// payload (queuedOverhead), so holding a burst a leaf-node link holds
	// (200,000 messages of 128 B: 230 MB here, 34 MB there) takes four
	// times that.
	DefaultMaxQueuedBytesPerPeer = 256 << 20
	// DefaultMaxQueuedBytes is Config.MaxQueuedBytes's default: two
	// peers' full budgets, so a peer that fills its own (one that never
	// acknowledges, for AckTimeout) leaves the others as much.
	DefaultMaxQueuedBytes = 2 * DefaultMaxQueuedBytesPerPeer
)

// DefaultKeepAlive is Config.KeepAlive's default: well inside the 30 s
// after which NATs forget idle UDP mappings. Timeouts that end a peer's
// idle state elsewhere (relay sessions, registrations) must be longer.
const DefaultKeepAlive = 15 * time.Second
