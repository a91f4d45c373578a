package natpunch

import "time"

// GatewayLimits bound what any key can make a gateway hold and do. A peer
// is anyone with a freshly generated key, so every bound holds per key and
// in total, and is checked before anything is stored. Zero fields mean the
// defaults named.
type GatewayLimits struct {
	// MaxRegistrations caps the registry; a new node past it is refused
	// until records expire. Default 65,536 (under 64 MB with the defaults
	// below).
	MaxRegistrations int
	// MaxLocalAddrs is the most local addresses one registration may claim.
	// Default 8.
	MaxLocalAddrs int
	// MaxRecordBytes bounds a registration's payload, checked before it is
	// decoded. Default 1024.
	MaxRecordBytes int
	// Registrations, Lookups, Punches and Relays are each key's request
	// rates. Defaults 1/s in bursts of 8, 20/s in bursts of 100, 2/s in
	// bursts of 10, 1/s in bursts of 10.
	Registrations, Lookups, Punches, Relays Rate
	// Notifies bounds the punch and relay requests toward one node, from
	// all keys together. Default 1/s in bursts of 10.
	Notifies Rate
	// Requests bounds the control requests of all keys together. Default
	// 5,000/s in bursts of 10,000.
	Requests Rate
	// MaxKeys bounds the rows of each per-key rate table. Default 65,536.
	MaxKeys int
}

// Default gateway limits; see GatewayLimits.
const (
	DefaultMaxRegistrations = 65536
	DefaultMaxLocalAddrs    = 8
	DefaultMaxRecordBytes   = 1024
)

// DefaultGatewayLimits returns the default gateway limits.
func DefaultGatewayLimits() GatewayLimits {
	var l GatewayLimits
	l.populate()
	return l
}

func (l *GatewayLimits) populate() {
	setDefaultInt(&l.MaxRegistrations, DefaultMaxRegistrations)
	setDefaultInt(&l.MaxLocalAddrs, DefaultMaxLocalAddrs)
	setDefaultInt(&l.MaxRecordBytes, DefaultMaxRecordBytes)
	setDefaultInt(&l.MaxKeys, 65536)
	l.Registrations = l.Registrations.orDefault(Rate{1, 8})
	l.Lookups = l.Lookups.orDefault(Rate{20, 100})
	l.Punches = l.Punches.orDefault(Rate{2, 10})
	l.Relays = l.Relays.orDefault(Rate{1, 10})
	l.Notifies = l.Notifies.orDefault(Rate{1, 10})
	l.Requests = l.Requests.orDefault(Rate{5000, 10000})
}

func setDefaultInt[T int | int64](v *T, d T) {
	if *v == 0 {
		*v = d
	}
}

// RelayLimits bound relay sessions and their traffic. A relay is the
// fallback people rely on, so the defaults carry real traffic (a few MB/s
// per client) and never end a session by surprise; they stop one key from
// pushing floods at a node or filling the table.
type RelayLimits struct {
	// MaxBytes is the most bytes forwarded per session, both ways together.
	// Zero means unlimited.
	MaxBytes int64
	// MaxRate is the most bytes per second forwarded per session. Zero
	// means 8 MiB/s; negative unlimited.
	MaxRate int64
	// MaxDuration is how long a session may last. Zero means unlimited.
	MaxDuration time.Duration
	// ClientPacketRate and ClientPacketBurst bound the packets per second one
	// node sends through the relay, over all its sessions. Zero means 6,500
	// and 13,000: 8 MiB/s of relayed QUIC packets (1,291 bytes each), the
	// same as MaxRate, so one busy session gets all of it (at 4,000 a relayed
	// pair reached 0.37-0.49 of a direct path's throughput, at 6,500
	// 0.52-0.80); a negative rate is unlimited.
	ClientPacketRate  float64
	ClientPacketBurst int
	// ReceivePacketRate and ReceivePacketBurst bound the packets per second
	// relayed to one node, from all its peers together, so keys that each
	// keep within their own rate cannot together flood a node. Zero means
	// 8,000 and 16,000; a negative rate is unlimited.
	ReceivePacketRate  float64
	ReceivePacketBurst int
	// PacketRate bounds the packets per second the gateway relays in all.
	// Zero means 100,000 (bursts of twice that); negative unlimited.
	PacketRate float64
	// MaxSessionsPerClient bounds the sessions one node takes part in.
	// Default 16.
	MaxSessionsPerClient int
	// MaxSessions bounds all relay sessions. Default 16,384.
	MaxSessions int
}

// Default relay limits; see RelayLimits.
const (
	DefaultRelayMaxRate           = 8 << 20
	DefaultRelayClientRate        = 6500
	DefaultRelayClientBurst       = 13000
	DefaultRelayReceiveRate       = 8000
	DefaultRelayReceiveBurst      = 16000
	DefaultRelayPacketRate        = 100000
	DefaultRelaySessionsPerClient = 16
	DefaultGatewayRelaySessions   = 16384
)

// DefaultRelayLimits returns the default relay limits.
func DefaultRelayLimits() RelayLimits {
	var l RelayLimits
	l.populate()
	return l
}

func (l *RelayLimits) populate() {
	setDefaultInt(&l.MaxRate, DefaultRelayMaxRate)
	if l.ClientPacketRate == 0 {
		l.ClientPacketRate = DefaultRelayClientRate
	}
	setDefaultInt(&l.ClientPacketBurst, DefaultRelayClientBurst)
	if l.ReceivePacketRate == 0 {
		l.ReceivePacketRate = DefaultRelayReceiveRate
	}
	setDefaultInt(&l.ReceivePacketBurst, DefaultRelayReceiveBurst)
	if l.PacketRate == 0 {
		l.PacketRate = DefaultRelayPacketRate
	}
	setDefaultInt(&l.MaxSessionsPerClient, DefaultRelaySessionsPerClient)
	setDefaultInt(&l.MaxSessions, DefaultGatewayRelaySessions)
}
