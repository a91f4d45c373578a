package wan

import (
	"slices"
	"time"
)

// Options configure one run of the scenario. Zero fields take the defaults
// named in their comments.
type Options struct {
	// Requesters is how many requesters run at once. Default 16.
	Requesters int `json:"requesters"`
	// Size is the payload of every request, reply and message in bytes.
	// Default 128.
	Size int `json:"size"`
	// RequestDuration is how long the requesters run per system. Default 4s.
	RequestDuration time.Duration `json:"request_duration_ns"`
	// RequestTimeout bounds each request; one that times out counts as an
	// error. Default 5s.
	RequestTimeout time.Duration `json:"request_timeout_ns"`
	// BlastDuration is how long fire-and-forget messages are published per
	// system. Default 3s.
	BlastDuration time.Duration `json:"blast_duration_ns"`
	// Window is how many messages the publisher may have sent beyond what
	// the receiver has counted. Default 16,000.
	Window int `json:"window"`
	// Burst, if set, is a burst of messages published after the blast as
	// fast as NATS takes them, without a window, as a leaf-node link's
	// users publish: every one must arrive.
	Burst int `json:"burst,omitempty"`
	// Stall ends a wait for messages when the receiver's count has not
	// moved for this long; it also bounds each count request, which on a
	// leaf link queues behind the messages in flight, so it must exceed
	// the time a full Window takes to drain at the slowest rate measured
	// (16,000 messages at 2,500/s: 6.4 s). Default 15s.
	Stall time.Duration `json:"stall_ns"`
	// SetupTimeout bounds starting a side and waiting for its paths.
	// Default 20s.
	SetupTimeout time.Duration `json:"setup_timeout_ns"`
	// TCPCongestion, if set, is the TCP congestion control each side's
	// namespace uses (net.ipv4.tcp_congestion_control: "cubic", "bbr").
	// Empty leaves the namespace's default.
	TCPCongestion string `json:"tcp_congestion"`
	// Systems, if set, names the systems measured (SystemLeaf,
	// SystemBridge); empty measures both.
	Systems []string `json:"systems,omitempty"`
	// Gateway, if set, is the gateway (NODEID@host:port) both bridges
	// register with, as --gateway gives it.
	Gateway string `json:"gateway,omitempty"`
	// Relay makes side A's bridge find B through the gateway instead of a
	// static peer, and skip the hole punch (Peer-Punch: skip): between
	// NATs that admit no direct path, its messages go through the
	// gateway's relay. It needs Gateway.
	Relay bool `json:"relay,omitempty"`
	// LeafCompression is the leaf link's compression mode as nats-server
	// spells it ("off", "s2_auto", ...). Default "off".
	LeafCompression string `json:"leaf_compression"`
}

// Defaults of Options.
const (
	DefaultRequesters      = 16
	DefaultSize            = 128
	DefaultRequestDuration = 4 * time.Second
	DefaultRequestTimeout  = 5 * time.Second
	DefaultBlastDuration   = 3 * time.Second
	DefaultWindow          = 16000
	DefaultStall           = 15 * time.Second
	DefaultSetupTimeout    = 20 * time.Second
	DefaultLeafCompression = "off"
)

// populate fills zero fields with their defaults.
func (o *Options) populate() {
	set := func(dst *int, v int) {
		if *dst <= 0 {
			*dst = v
		}
	}
	setD := func(dst *time.Duration, v time.Duration) {
		if *dst <= 0 {
			*dst = v
		}
	}
	set(&o.Requesters, DefaultRequesters)
	set(&o.Size, DefaultSize)
	set(&o.Window, DefaultWindow)
	setD(&o.RequestDuration, DefaultRequestDuration)
	setD(&o.RequestTimeout, DefaultRequestTimeout)
	setD(&o.BlastDuration, DefaultBlastDuration)
	setD(&o.Stall, DefaultStall)
	setD(&o.SetupTimeout, DefaultSetupTimeout)
	if o.LeafCompression == "" {
		o.LeafCompression = DefaultLeafCompression
	}
}

// wants reports whether system is measured.
func (o Options) wants(system string) bool {
	return len(o.Systems) == 0 || slices.Contains(o.Systems, system)
}
