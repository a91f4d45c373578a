package portmap

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"time"
)

// Every default of a Mapper, in one place.
const (
	// DefaultLifetime is the lifetime asked for: two hours, as Tailscale
	// asks.
	DefaultLifetime = 7200 * time.Second
	// DefaultRenewEvery is the longest wait before a held mapping is asked
	// for again; it is renewed at half its granted lifetime if that is
	// sooner. Tailscale re-checks every 10 minutes.
	DefaultRenewEvery = 10 * time.Minute
	// DefaultRetryMin and DefaultRetryMax bound the backoff while no
	// router grants a mapping.
	DefaultRetryMin = 30 * time.Second
	DefaultRetryMax = 10 * time.Minute
	// DefaultTimeout bounds one attempt with one protocol.
	DefaultTimeout = 2 * time.Second
	// minLifetime is the least granted lifetime a mapping is kept with:
	// shorter ones would have it renewed too often.
	minLifetime = 2 * time.Minute
)

// Config configures a Mapper. Every zero field means the default named.
type Config struct {
	// Port is the UDP port to map: the bridge's one socket. Required.
	Port uint16
	// Gateway returns the router to ask. Nil means DefaultGateway.
	Gateway func() (netip.Addr, error)
	// Dial opens the connections to the router. Nil means net.Dialer's;
	// set it where the bridge's socket lives in another network namespace.
	Dial DialFunc
	// Protocols are the protocols tried, in order. Nil means AllProtocols
	// (PCP, NAT-PMP, UPnP).
	Protocols []Protocol
	// Lifetime is the lifetime asked for. Default DefaultLifetime.
	Lifetime time.Duration
	// RenewEvery, RetryMin, RetryMax and Timeout: see the defaults.
	RenewEvery, RetryMin, RetryMax, Timeout time.Duration
	// OnChange, if set, is told of every mapping held (held true), moved
	// to another address, or lost (held false, m the lost mapping). It runs
	// on the mapper's goroutine and must not block.
	OnChange func(m Mapping, held bool)
	// Log is told when a mapping is held or lost. Nil discards.
	Log *slog.Logger
}

// ErrInvalidConfig is wrapped by every error of a Config's validation.
var ErrInvalidConfig = errors.New("portmap: invalid config")

func (c *Config) populate() {
	if c.Gateway == nil {
		c.Gateway = DefaultGateway
	}
	if c.Dial == nil {
		c.Dial = (&net.Dialer{}).DialContext
	}
	if c.Protocols == nil {
		c.Protocols = AllProtocols()
	}
	c.Lifetime = cmp.Or(c.Lifetime, DefaultLifetime)
	c.RenewEvery = cmp.Or(c.RenewEvery, DefaultRenewEvery)
	c.RetryMin = cmp.Or(c.RetryMin, DefaultRetryMin)
	c.RetryMax = cmp.Or(c.RetryMax, DefaultRetryMax)
	c.Timeout = cmp.Or(c.Timeout, DefaultTimeout)
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

func (c *Config) validate() error {
	switch {
	case c.Port == 0:
		return fmt.Errorf("%w: no port to map", ErrInvalidConfig)
	case c.Lifetime < time.Second || c.Lifetime > 24*time.Hour:
		return fmt.Errorf("%w: lifetime %v, want 1 s to 24 h", ErrInvalidConfig, c.Lifetime)
	case len(c.Protocols) == 0:
		return fmt.Errorf("%w: no protocol to try", ErrInvalidConfig)
	case slices.ContainsFunc(c.Protocols, func(p Protocol) bool { return !slices.Contains(AllProtocols(), p) }):
		return fmt.Errorf("%w: protocols %v, want some of %v", ErrInvalidConfig, c.Protocols, AllProtocols())
	case c.RenewEvery < 0 || c.RetryMin < 0 || c.Timeout < 0 || c.RetryMin > c.RetryMax:
		return fmt.Errorf("%w: negative interval, or retry minimum above maximum", ErrInvalidConfig)
	}
	return nil
}
