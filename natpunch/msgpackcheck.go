package natpunch

import (
	"errors"
	"fmt"
)

// errMsgpack reports a control message that is not well-formed msgpack.
var errMsgpack = errors.New("natpunch: malformed msgpack")

// maxMsgpackDepth bounds the nesting of a control message; ours nest two
// deep.
const maxMsgpackDepth = 8

// checkMsgpack checks that b holds one msgpack value whose every declared
// length fits in b, before the msgpack library sees it. The library sizes
// its buffers by the declared length, and its pooled decoders keep them: a
// ten-byte message claiming a 2 GB string grew the heap by gigabytes.
func checkMsgpack(b []byte) error {
	rest, err := skipValue(b, 0)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d bytes after the value", errMsgpack, len(rest))
	}
	return nil
}

// skipValue returns what follows the msgpack value at the start of b.
func skipValue(b []byte, depth int) ([]byte, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: truncated", errMsgpack)
	}
	if depth > maxMsgpackDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", errMsgpack, maxMsgpackDepth)
	}
	c, b := b[0], b[1:]
	switch {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return b, nil // fixint, nil, bool
	case c <= 0x8f:
		return skipItems(b, 2*int(c&0x0f), depth)
	case c <= 0x9f:
		return skipItems(b, int(c&0x0f), depth)
	case c <= 0xbf:
		return skipBytes(b, int(c&0x1f))
	}
	switch c {
	case 0xc4, 0xd9: // bin8, str8
		return skipSized(b, 1, 0)
	case 0xc5, 0xda: // bin16, str16
		return skipSized(b, 2, 0)
	case 0xc6, 0xdb: // bin32, str32
		return skipSized(b, 4, 0)
	case 0xc7, 0xc8, 0xc9: // ext8, ext16, ext32: length, type, data
		return skipSized(b, 1<<(c-0xc7), 1)
	case 0xca, 0xce, 0xd2: // float32, uint32, int32
		return skipBytes(b, 4)
	case 0xcb, 0xcf, 0xd3: // float64, uint64, int64
		return skipBytes(b, 8)
	case 0xcc, 0xd0: // uint8, int8
		return skipBytes(b, 1)
	case 0xcd, 0xd1: // uint16, int16
		return skipBytes(b, 2)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1..16, plus its type
		return skipBytes(b, 1+1<<(c-0xd4))
	case 0xdc, 0xde: // array16, map16
		return skipCounted(b, 2, c == 0xde, depth)
	case 0xdd, 0xdf: // array32, map32
		return skipCounted(b, 4, c == 0xdf, depth)
	}
	return nil, fmt.Errorf("%w: byte %#x", errMsgpack, c) // 0xc1, never used
}

// readLen reads a big-endian length of size bytes.
func readLen(b []byte, size int) (int, []byte, error) {
	if len(b) < size {
		return 0, nil, fmt.Errorf("%w: truncated length", errMsgpack)
	}
	var n uint64
	for _, x := range b[:size] {
		n = n<<8 | uint64(x)
	}
	if n > uint64(len(b)) { // also keeps n well inside an int
		return 0, nil, fmt.Errorf("%w: length %d exceeds the message", errMsgpack, n)
	}
	return int(n), b[size:], nil
}

// skipSized skips a length of size bytes, extra bytes, then that many bytes.
func skipSized(b []byte, size, extra int) ([]byte, error) {
	n, b, err := readLen(b, size)
	if err != nil {
		return nil, err
	}
	return skipBytes(b, extra+n)
}

// skipCounted skips an array or map whose element count takes size bytes.
func skipCounted(b []byte, size int, isMap bool, depth int) ([]byte, error) {
	n, b, err := readLen(b, size)
	if err != nil {
		return nil, err
	}
	if isMap {
		n *= 2
	}
	return skipItems(b, n, depth)
}

// skipItems skips n values. Each takes at least a byte, so a count larger
// than what is left fails before any is read.
func skipItems(b []byte, n, depth int) ([]byte, error) {
	if n > len(b) {
		return nil, fmt.Errorf("%w: %d items in %d bytes", errMsgpack, n, len(b))
	}
	for range n {
		var err error
		if b, err = skipValue(b, depth+1); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func skipBytes(b []byte, n int) ([]byte, error) {
	if n > len(b) {
		return nil, fmt.Errorf("%w: %d bytes wanted, %d left", errMsgpack, n, len(b))
	}
	return b[n:], nil
}
