package gateway

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
)

// Config configures a Gateway. Every zero field means the default named
// (see defaults.go); New fills them in with populate and checks the result
// with validate.
type Config struct {
	// Listen are the UDP addresses to serve on. A second address (another IP
	// and port) lets NAT probes tell mapping and filtering behaviour apart.
	// Required.
	Listen []string
	// Advertise are the addresses other gateways of a fleet and bridges
	// reach each listen address at, in the order of Listen; needed in a
	// fleet for a listen address on an unspecified IP. Empty means the
	// bound addresses.
	Advertise []string
	// RegistrationTTL is how long a bridge's registration lasts without a
	// refresh. Expired records are swept every quarter of it. Default 90 s;
	// it must be longer than PeerKeepAlive.
	RegistrationTTL time.Duration
	// PeerKeepAlive is how often the bridges' QUIC connections send
	// keep-alives. RegistrationTTL and RelayIdleTimeout must be longer, or
	// live but quiet bridges would lose their state. Default KeepAlive
	// (15 s, the connector's default); set it only where the bridges are
	// configured alike.
	PeerKeepAlive time.Duration
	// Relay limits relay sessions and the traffic through them.
	Relay RelayLimits
	// RelayIdleTimeout closes a relay session that forwarded nothing for
	// this long. Relayed QUIC connections send keep-alives every
	// PeerKeepAlive, so only sessions nobody uses any more end; it must be
	// longer than PeerKeepAlive. Default 2 minutes.
	RelayIdleTimeout time.Duration
	// Conn holds the limits of the connector on each listen address (see
	// connector.Config); its ListenAddr, IdleTimeout and ReverifyAfter are
	// the gateway's own. Zero MaxConns and MaxConnsPerIP mean
	// DefaultMaxConns and DefaultMaxConnsPerIP; the rest zero means the
	// connector's defaults.
	Conn connector.Config
	// Limits bound what bridges can make the gateway hold and do.
	Limits Limits
	// ListenTCP are the TCP addresses of the relay over TLS and WebSocket,
	// for bridges whose networks block UDP. Empty means the host:port of
	// each UDP listen address (one port number to open, 443 for example);
	// wire.TCPOff switches it off. See StartTCPOn.
	ListenTCP []string
	// TCP bounds the TCP relay's connections.
	TCP TCPLimits
}

// Limits bound what any key can make a gateway hold and do. A peer is
// anyone with a freshly generated key, so every bound holds per key and in
// total, and is checked before anything is stored. Zero fields mean the
// defaults named; a rate with a negative PerSecond is unlimited.
type Limits struct {
	// MaxRegistrations caps the registry; a new node past it is refused
	// until records expire. Default DefaultMaxRegistrations (under 64 MB
	// with the defaults below).
	MaxRegistrations int
	// MaxRegistrationsPerIP caps the records of bridges at one IP address
	// (an IPv6 /64; a TCP relay client's real IP). Default
	// DefaultMaxConnsPerIP: as many as may connect from there, for the
	// bridges behind one carrier-grade NAT.
	MaxRegistrationsPerIP int
	// MaxLocalAddrs is the most local addresses one registration may claim.
	// Default 8.
	MaxLocalAddrs int
	// MaxRecordBytes bounds a registration's payload, checked before it is
	// decoded. Default 1024.
	MaxRecordBytes int
	// Registrations, Lookups, Punches and Relays are each key's request
	// rates. Defaults DefaultRegistrations, DefaultLookups, DefaultPunches
	// and DefaultRelays.
	Registrations, Lookups, Punches, Relays ratelimit.Rate
	// Notifies bounds the punch and relay requests toward one node, from
	// all keys together. Default DefaultNotifies.
	Notifies ratelimit.Rate
	// PairNotifies bounds the punch and relay requests of one key toward
	// one node, so that one key takes only its share of Notifies. Default
	// DefaultPairNotifies.
	PairNotifies ratelimit.Rate
	// Requests bounds the control requests of all keys together. Default
	// DefaultRequests.
	Requests ratelimit.Rate
	// MaxKeys bounds the rows of each per-key rate table. Default 65,536.
	MaxKeys int
	// MaxGatewaysPerKey bounds, in a fleet, how many gateways hold one
	// key's registration at once, so that the per-key bounds above hold at
	// most this many times fleet-wide whatever the fleet's size: a gateway
	// refuses a new registration when as many others rank before it (see
	// natpunch/fleet), and serves lookups, punches and relays only to keys
	// registered with it. A bridge configured with more gateways of one
	// fleet than this is registered at this many and found through all.
	// Default DefaultMaxGatewaysPerKey; unused outside a fleet.
	MaxGatewaysPerKey int
}

// RelayLimits bound relay sessions and their traffic. A relay is the
// fallback people rely on, so the defaults carry real traffic (a few MB/s
// per client) and never end a session by surprise; they stop one key from
// pushing floods at a node or filling the table. Zero fields mean the
// defaults named.
type RelayLimits struct {
	// MaxBytes is the most bytes forwarded per session, both ways together.
	// Zero means unlimited.
	MaxBytes int64
	// MaxRate is the most bytes per second forwarded per session, in bursts
	// of a second's worth (at least 64 KiB). Zero means
	// DefaultRelayMaxRate (8 MiB/s); negative unlimited.
	MaxRate int64
	// MaxDuration is how long a session may last. Zero means unlimited.
	MaxDuration time.Duration
	// ClientPackets bounds the packets one node sends through the relay,
	// over all its sessions. Default DefaultRelayClientPackets.
	ClientPackets ratelimit.Rate
	// ReceivePackets bounds the packets relayed to one node, from all its
	// peers together, so keys that each keep within their own rate cannot
	// together flood a node. Default DefaultRelayReceivePackets.
	ReceivePackets ratelimit.Rate
	// Packets bounds the packets the gateway relays in all. Default
	// DefaultRelayPackets.
	Packets ratelimit.Rate
	// MaxSessionsPerClient bounds the sessions one node takes part in.
	// Default 16.
	MaxSessionsPerClient int
	// MaxSessions bounds all relay sessions. Default 16,384.
	MaxSessions int
}

// TCPLimits bound what TCP relay clients can make a gateway hold. Every
// client holds one TCP connection, two goroutines, two 2 KiB buffers and a
// loopback UDP socket. Zero fields mean the defaults named.
type TCPLimits struct {
	// MaxConns bounds the TCP connections, upgraded or not. Default 4,096.
	MaxConns int
	// MaxConnsPerIP bounds the TCP connections from one IP address.
	// Default 16.
	MaxConnsPerIP int
}

// DefaultLimits returns the default gateway limits.
func DefaultLimits() Limits {
	var l Limits
	l.populate()
	return l
}

// DefaultRelayLimits returns the default relay limits.
func DefaultRelayLimits() RelayLimits {
	var l RelayLimits
	l.populate()
	return l
}

// DefaultTCPLimits returns the default TCP relay limits.
func DefaultTCPLimits() TCPLimits {
	var l TCPLimits
	l.populate()
	return l
}

func (c *Config) populate() {
	c.RegistrationTTL = cmp.Or(c.RegistrationTTL, DefaultRegistrationTTL)
	c.RelayIdleTimeout = cmp.Or(c.RelayIdleTimeout, DefaultRelayIdleTimeout)
	c.PeerKeepAlive = cmp.Or(c.PeerKeepAlive, KeepAlive)
	c.Conn.MaxConns = cmp.Or(c.Conn.MaxConns, DefaultMaxConns)
	c.Conn.MaxConnsPerIP = cmp.Or(c.Conn.MaxConnsPerIP, DefaultMaxConnsPerIP)
	c.Limits.populate()
	c.Relay.populate()
	c.TCP.populate()
}

func (l *Limits) populate() {
	l.MaxRegistrations = cmp.Or(l.MaxRegistrations, DefaultMaxRegistrations)
	l.MaxRegistrationsPerIP = cmp.Or(l.MaxRegistrationsPerIP, DefaultMaxConnsPerIP)
	l.MaxLocalAddrs = cmp.Or(l.MaxLocalAddrs, DefaultMaxLocalAddrs)
	l.MaxRecordBytes = cmp.Or(l.MaxRecordBytes, DefaultMaxRecordBytes)
	l.MaxKeys = cmp.Or(l.MaxKeys, DefaultMaxKeys)
	l.MaxGatewaysPerKey = cmp.Or(l.MaxGatewaysPerKey, DefaultMaxGatewaysPerKey)
	l.Registrations = l.Registrations.OrDefault(DefaultRegistrations)
	l.Lookups = l.Lookups.OrDefault(DefaultLookups)
	l.Punches = l.Punches.OrDefault(DefaultPunches)
	l.Relays = l.Relays.OrDefault(DefaultRelays)
	l.Notifies = l.Notifies.OrDefault(DefaultNotifies)
	l.PairNotifies = l.PairNotifies.OrDefault(DefaultPairNotifies)
	l.Requests = l.Requests.OrDefault(DefaultRequests)
}

func (l *RelayLimits) populate() {
	l.MaxRate = cmp.Or(l.MaxRate, DefaultRelayMaxRate)
	l.ClientPackets = l.ClientPackets.OrDefault(DefaultRelayClientPackets)
	l.ReceivePackets = l.ReceivePackets.OrDefault(DefaultRelayReceivePackets)
	l.Packets = l.Packets.OrDefault(DefaultRelayPackets)
	l.MaxSessionsPerClient = cmp.Or(l.MaxSessionsPerClient, DefaultRelaySessionsPerClient)
	l.MaxSessions = cmp.Or(l.MaxSessions, DefaultRelaySessions)
}

func (l *TCPLimits) populate() {
	l.MaxConns = cmp.Or(l.MaxConns, DefaultTCPMaxConns)
	l.MaxConnsPerIP = cmp.Or(l.MaxConnsPerIP, DefaultTCPMaxConnsPerIP)
}

// ErrInvalidConfig is wrapped by every error validate returns.
var ErrInvalidConfig = errors.New("gateway: invalid config")

// validate checks a populated Config: bounds are not negative, rates are
// buckets, and timeouts that end idle state outlive the keep-alives that
// show a peer is still there.
func (c *Config) validate() error {
	if len(c.Listen) == 0 {
		return fmt.Errorf("%w: a listen address is needed", ErrInvalidConfig)
	}
	for _, a := range c.Advertise {
		if _, err := netip.ParseAddrPort(a); err != nil {
			return fmt.Errorf("%w: advertised address: %w", ErrInvalidConfig, err)
		}
	}
	l, r, t := c.Limits, c.Relay, c.TCP
	for _, n := range []int{l.MaxRegistrations, l.MaxRegistrationsPerIP, l.MaxLocalAddrs, l.MaxRecordBytes, l.MaxKeys, l.MaxGatewaysPerKey, r.MaxSessionsPerClient, r.MaxSessions, t.MaxConns, t.MaxConnsPerIP, c.Conn.MaxConns, c.Conn.MaxConnsPerIP} {
		if n < 0 {
			return fmt.Errorf("%w: limits must not be negative", ErrInvalidConfig)
		}
	}
	if r.MaxBytes < 0 || r.MaxDuration < 0 {
		return fmt.Errorf("%w: relay limits must not be negative", ErrInvalidConfig)
	}
	for _, rate := range []ratelimit.Rate{l.Registrations, l.Lookups, l.Punches, l.Relays, l.Notifies, l.PairNotifies, l.Requests, r.ClientPackets, r.ReceivePackets, r.Packets} {
		if err := rate.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	if c.RegistrationTTL <= c.PeerKeepAlive || c.RelayIdleTimeout <= c.PeerKeepAlive {
		return fmt.Errorf("%w: registration TTL (%v) and relay idle timeout (%v) must be longer than the bridges' %v keep-alive", ErrInvalidConfig, c.RegistrationTTL, c.RelayIdleTimeout, c.PeerKeepAlive)
	}
	return nil
}
