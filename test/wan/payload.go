package wan

import "math/rand/v2"

// payload returns size pseudo-random bytes, the same on every call, so no
// link can shrink them by compression.
func payload(size int) []byte {
	b := make([]byte, size)
	_, _ = rand.NewChaCha8([32]byte{'w', 'a', 'n'}).Read(b)
	return b
}
