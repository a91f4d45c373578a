package wan

import "math/rand/v2"

// payloads makes pseudo-random payloads, a new one for every message, so
// that no link can shrink them by compression, not even by matching one
// message against the last. It is not safe for concurrent use.
type payloads struct {
	rng *rand.ChaCha8
	buf []byte
}

// newPayloads makes payloads of size bytes from seed.
func newPayloads(size int, seed byte) *payloads {
	return &payloads{rng: rand.NewChaCha8([32]byte{'w', 'a', 'n', seed}), buf: make([]byte, size)}
}

// next returns a new payload. It reuses one buffer, valid until the next
// call: nats.go copies what it publishes before returning.
func (p *payloads) next() []byte {
	_, _ = p.rng.Read(p.buf)
	return p.buf
}
