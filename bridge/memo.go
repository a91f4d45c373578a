package bridge

import "sync/atomic"

// memo remembers the value made for the last key it was asked about, so
// that a run of messages alike (one type, one peer) makes it once. Values
// are shared between callers and must not be modified.
type memo[K comparable, V any] struct {
	last atomic.Pointer[memoEntry[K, V]]
}

type memoEntry[K comparable, V any] struct {
	key K
	val V
}

// get returns the value for key, calling make on a miss. Errors are not
// remembered.
func (m *memo[K, V]) get(key K, make func(K) (V, error)) (V, error) {
	if e := m.last.Load(); e != nil && e.key == key {
		return e.val, nil
	}
	v, err := make(key)
	if err == nil {
		m.last.Store(&memoEntry[K, V]{key: key, val: v})
	}
	return v, err
}
