package connector

import (
	"errors"
	"fmt"
	"time"

	"github.com/peerbridge/peerbridge/codec"
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
	// deadline. Zero means 10 s.
	DefaultTimeout time.Duration
	// DialTimeout bounds a QUIC handshake. Zero means 5 s. A caller waits
	// for a dial at most a quarter of the time it has left (at least half
	// of it, up to a second), if that is shorter, and then fails with
	// ErrUnreachable; the dial goes on for the next caller.
	DialTimeout time.Duration
	// IdleTimeout closes connections that carried no message for this long.
	// Zero means 2 minutes.
	IdleTimeout time.Duration
	// MaxConns is the pool size; past it the least recently used connection
	// is closed. Zero means 10,000.
	MaxConns int
	// ReverifyAfter is how long a pooled connection may be silent before it
	// is pinged ahead of its next use. Zero means 10 s; negative disables it.
	ReverifyAfter time.Duration
	// MaxStreams is how many concurrent requests a peer may have open on one
	// connection. Zero means 4096.
	MaxStreams int
	// MaxQueue is how many messages may wait in one peer's send queue;
	// past it sends to that peer fail with ErrBusy. Zero means 16384.
	MaxQueue int
	// MaxQueues is how many peers may have messages queued at once; past
	// it sends to further peers fail with ErrBusy. Zero means 4096.
	MaxQueues int
	// MaxQueuedBytes bounds the memory of the messages waiting in all send
	// queues together: their payloads plus a fixed 256 bytes each. Past it
	// sends fail with ErrBusy. Zero means 64 MiB.
	MaxQueuedBytes int
	// KeepAlive is the QUIC keep-alive period, which also keeps NAT mappings
	// open. Zero means 15 s; negative disables it.
	KeepAlive time.Duration
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
	setDefault(&c.IdleTimeout, 2*time.Minute)
	setDefault(&c.ReverifyAfter, 10*time.Second)
	setDefault(&c.KeepAlive, 15*time.Second)
	if c.MaxConns == 0 {
		c.MaxConns = 10000
	}
	if c.MaxStreams == 0 {
		c.MaxStreams = 4096
	}
	setDefaultInt(&c.MaxQueue, 16384)
	setDefaultInt(&c.MaxQueues, 4096)
	setDefaultInt(&c.MaxQueuedBytes, 64<<20)
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
	if c.DefaultTimeout < 0 || c.DialTimeout < 0 || c.IdleTimeout < 0 {
		errs = append(errs, errors.New("timeouts must not be negative"))
	}
	if c.MaxConns < 0 || c.MaxStreams < 0 {
		errs = append(errs, errors.New("MaxConns and MaxStreams must not be negative"))
	}
	if c.MaxQueue < 0 || c.MaxQueues < 0 || c.MaxQueuedBytes < 0 {
		errs = append(errs, errors.New("MaxQueue, MaxQueues and MaxQueuedBytes must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("connector: invalid config: %w", err)
	}
	return nil
}
