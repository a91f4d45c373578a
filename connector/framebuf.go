package connector

import "github.com/peerbridge/peerbridge/codec"

// frameOverhead is room for a frame's length prefix, version and envelope
// fields other than its strings and headers.
const frameOverhead = 64

// newFrameBuf returns an empty buffer large enough to encode f, so that
// codec.AppendFrame need not grow it step by step: one allocation for a
// request or reply, where growing from nil takes several (and copies a
// large payload more than once).
func newFrameBuf(f *codec.Frame) []byte {
	n := frameOverhead + len(f.Type) + len(f.Error) + len(f.Payload)
	for k, vs := range f.Headers {
		n += len(k) + 4
		for _, v := range vs {
			n += len(v) + 4
		}
	}
	return make([]byte, 0, n)
}
