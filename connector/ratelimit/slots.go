package ratelimit

import (
	"errors"
	"net/netip"
	"sync"
)

// Refusals of Slots.Take.
var (
	// ErrFull refuses a slot when all of them are taken.
	ErrFull = errors.New("ratelimit: every slot is taken")
	// ErrKeyFull refuses a slot when the key holds its share.
	ErrKeyFull = errors.New("ratelimit: the key holds its share of slots")
)

// Slots bounds what is held at once (connections, sessions): at most max in
// all and perKey for one key. The zero value holds nothing; use NewSlots.
type Slots[K comparable] struct {
	max, perKey int

	mu    sync.Mutex // guards total and byKey
	total int
	byKey map[K]int
}

// NewSlots returns slots for max holders in all, perKey of them per key.
func NewSlots[K comparable](max, perKey int) *Slots[K] {
	return &Slots[K]{max: max, perKey: perKey, byKey: make(map[K]int)}
}

// Take holds a slot for k, or says why it cannot (ErrFull, ErrKeyFull).
func (s *Slots[K]) Take(k K) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.total >= s.max:
		return ErrFull
	case s.byKey[k] >= s.perKey:
		return ErrKeyFull
	}
	s.total++
	s.byKey[k]++
	return nil
}

// Give returns a slot k held.
func (s *Slots[K]) Give(k K) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.byKey[k]--; s.byKey[k] <= 0 {
		delete(s.byKey, k)
	}
}

// Load returns the slots held.
func (s *Slots[K]) Load() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// IPKey is the address a remote party's holdings count against: its IP,
// or for IPv6 its /64, which one host commonly holds whole. TCP and QUIC
// limits use the same key, so a host cannot get around one with the other.
func IPKey(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return ip
}
