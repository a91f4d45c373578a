package natlab

import (
	"errors"
	"fmt"
)

// ErrUnsupported is wrapped by [Open]'s error when the machine cannot host a
// lab: not root, ip or nft missing, network namespaces unavailable, or, for
// a lab [WithWire], no TUN device. [New] skips the test on it.
var ErrUnsupported = errors.New("natlab: this machine cannot host a lab")

// tunDevice is where TAP devices, and so a wired lab's links, come from.
const tunDevice = "/dev/net/tun"

// Open creates a lab with an empty public segment, outside any test: the
// caller must [Lab.Close] it, also when a later step fails. It first
// deletes the namespaces of labs whose process is gone, as [New] does. Its
// error wraps [ErrUnsupported] when the machine cannot host a lab.
func Open(opts ...Option) (*Lab, error) {
	// A stale lab that cannot be deleted does not stop this one, whose
	// namespaces have names of their own.
	_ = reapStale()
	return open(opts)
}

// open creates a lab without reaping stale ones.
func open(opts []Option) (*Lab, error) {
	cfg := &Lab{}
	for _, o := range opts {
		o(cfg)
	}
	if reason := unsupported(cfg.wire != nil); reason != "" {
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, reason)
	}
	if cfg.wire != nil {
		if err := cfg.wire.validate(); err != nil {
			return nil, err
		}
	}
	id, err := randomID()
	if err != nil {
		return nil, err
	}
	l := &Lab{
		id:         id,
		labels:     map[string]bool{internetName: true},
		nextPublic: firstHostOctet,
		nextLAN:    1,
		wire:       cfg.wire,
		ipv6:       cfg.ipv6,
		v4only:     make(map[string]bool),
	}
	ns, err := l.createNamespace(internetName)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot create a network namespace: %w", ErrUnsupported, err)
	}
	l.internet = ns
	if err := l.setupInternet(); err != nil {
		return nil, errors.Join(err, l.teardown())
	}
	return l, nil
}

// Close stops the lab's wired links and deletes all its namespaces, which
// removes every veth and bridge in them. Close sockets and stop commands
// started in the lab first: an open socket keeps its namespace alive,
// unnamed, until it is closed. A second Close does nothing.
func (l *Lab) Close() error { return l.teardown() }

// CreatePublicHost is [Lab.AddPublicHost] returning its error, for a lab
// made by [Open].
func (l *Lab) CreatePublicHost(name string, nAddrs int) (*Host, error) {
	return l.addPublicHost(name, nAddrs)
}

// CreateNAT is [Lab.AddNAT] returning its error, for a lab made by [Open].
func (l *Lab) CreateNAT(name string, kind Kind) (*NAT, error) {
	return l.createNAT(name, kind)
}

// CreateHost is [NAT.AddHost] returning its error, for a lab made by
// [Open].
func (n *NAT) CreateHost(name string) (*Host, error) {
	return n.addHost(name)
}

// CreateNAT is [NAT.AddNAT] returning its error, for a lab made by [Open].
func (n *NAT) CreateNAT(name string, kind Kind) (*NAT, error) {
	return n.addNAT(name, kind)
}
