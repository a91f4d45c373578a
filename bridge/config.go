package bridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// Config configures a Bridge. The zero value of every field means the default
// named in its comment.
type Config struct {
	// Prefix is the first part of every subject the bridge uses. Empty means
	// "peer".
	Prefix string
	// QueueGroup is the queue group the bridge subscribes in, so that bridges
	// on one NATS share the load. Empty means "peerbridge".
	QueueGroup string
	// DefaultTimeout bounds a send or request without a Peer-Timeout header,
	// and an inbound request whose context has no deadline. Zero means 10 s.
	DefaultTimeout time.Duration
	// ReplyTimeout bounds a request, or a send with a reply subject, that
	// sets no Peer-Timeout: its requester waits on NATS, and the stock
	// `nats request` gives up after 5 s, so the bridge answers (504) before
	// that. Zero means 4 s; it is never above DefaultTimeout.
	ReplyTimeout time.Duration
	// MaxPayload is the largest payload forwarded to a peer. Zero means 1 MiB.
	MaxPayload int
	// Serve maps inbound request types to the NATS subjects that serve them.
	// A type not in it is served on <prefix>.recv.<type>. Nil means none.
	Serve map[string]string
	// MaxInFlight is how many outbound requests may wait for their peers at
	// once; past it requests are answered 503. Zero means 4096.
	MaxInFlight int
	// MaxSends is how many outbound messages may wait for their peers'
	// acknowledgements at once; past it messages are answered 503. Zero
	// means 1,048,576, the connector's default queue length: the
	// connector's byte budgets are what bound a burst.
	MaxSends int
	// MaxTargets is the most distinct peers one message or request may
	// name; past it the message is answered 400. Zero means 64.
	MaxTargets int
	// Access, if set, says what each peer may have this bridge publish;
	// nil lets every peer that connected publish every type.
	Access Access
	// Dial, if set, makes connections to the NATS server for the bridge's
	// hot path (its subscriptions, the publishes of what peers send, the
	// answers on reply subjects), which then speaks the NATS protocol
	// itself (package natsconn) and makes a new connection when one is
	// lost. The daemon sets it for its embedded server, to an in-process
	// connection. Nil runs the hot path on the nats.go connection given to
	// New, as for an external NATS.
	Dial func(ctx context.Context) (net.Conn, error)
}

// Access is what the bridge asks of the node's membership policy (see
// connector/membership) for each message.
type Access interface {
	// MayDeliver reports whether peer may have a message of type typ
	// published on subject.
	MayDeliver(peer identity.NodeID, typ, subject string) bool
	// MaySend reports whether this node's own credential allows it to
	// cause a message of type typ at a peer with subject prefix prefix
	// (published there on <prefix>.recv.<type>).
	MaySend(prefix, typ string) bool
}

// Defaults for the zero values of Config.
const (
	DefaultPrefix       = "peer"
	DefaultQueueGroup   = "peerbridge"
	DefaultTimeout      = 10 * time.Second
	DefaultReplyTimeout = 4 * time.Second
	DefaultMaxPayload   = 1 << 20
	DefaultMaxInFlight  = 4096
	DefaultMaxSends     = 1 << 20
	DefaultMaxTargets   = 64
)

func (c *Config) populate() {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.QueueGroup == "" {
		c.QueueGroup = DefaultQueueGroup
	}
	if c.DefaultTimeout == 0 {
		c.DefaultTimeout = DefaultTimeout
	}
	if c.ReplyTimeout == 0 {
		c.ReplyTimeout = DefaultReplyTimeout
	}
	c.ReplyTimeout = min(c.ReplyTimeout, c.DefaultTimeout)
	if c.MaxPayload == 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.MaxSends == 0 {
		c.MaxSends = DefaultMaxSends
	}
	if c.MaxTargets == 0 {
		c.MaxTargets = DefaultMaxTargets
	}
}

// Validate reports whether c, with its defaults filled in, is a usable
// configuration, so that a daemon can refuse a bad one before it starts.
func (c Config) Validate() error {
	c.populate()
	return c.validate()
}

func (c *Config) validate() error {
	var errs []error
	if err := checkSubject(c.Prefix); err != nil {
		errs = append(errs, fmt.Errorf("Prefix: %w", err))
	}
	if strings.ContainsFunc(c.QueueGroup, badSubjectRune) {
		errs = append(errs, fmt.Errorf("QueueGroup %q has a space or control character", c.QueueGroup))
	}
	if c.DefaultTimeout < 0 || c.MaxPayload < 0 || c.MaxInFlight < 0 || c.MaxSends < 0 || c.MaxTargets < 0 {
		errs = append(errs, errors.New("DefaultTimeout, MaxPayload, MaxInFlight, MaxSends and MaxTargets must not be negative"))
	}
	for typ, subject := range c.Serve {
		errs = append(errs, checkServe(typ, subject))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bridge: invalid config: %w", err)
	}
	return nil
}

func checkServe(typ, subject string) error {
	if err := checkType(typ); err != nil {
		return fmt.Errorf("Serve: %w", err)
	}
	if err := checkSubject(subject); err != nil {
		return fmt.Errorf("Serve[%q]: %w", typ, err)
	}
	return nil
}

// ParseServe parses "type=subject" pairs, as given to the --serve flag, into
// a Config.Serve map.
func ParseServe(specs []string) (map[string]string, error) {
	serve := make(map[string]string, len(specs))
	for _, s := range specs {
		typ, subject, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("bridge: serve %q: want type=subject", s)
		}
		if err := checkServe(typ, subject); err != nil {
			return nil, fmt.Errorf("bridge: serve %q: %w", s, err)
		}
		serve[typ] = subject
	}
	return serve, nil
}
