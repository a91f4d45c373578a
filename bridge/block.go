package bridge

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
)

// errBadHeaderName: a header name NATS cannot carry.
var errBadHeaderName = errors.New("bridge: header name NATS cannot carry")

// appendHeaders appends every header of h but the bridge's to the raw
// header block b (see natsconn.Header), starting the block if b is empty.
// As nats.go does, it refuses a name NATS cannot carry (see validName),
// trims spaces around values and turns line breaks in them into spaces.
func appendHeaders(b []byte, h map[string][]string) ([]byte, error) {
	for k, vs := range h {
		if isBridgeHeader(k) {
			continue
		}
		if !validName(k) {
			return b, fmt.Errorf("%w: %q", errBadHeaderName, k)
		}
		for _, v := range vs {
			b = natsconn.AppendHeader(b, k, headerValue(textproto.TrimString(v)))
		}
	}
	return b, nil
}

// validName reports whether NATS carries k as a header name: printable
// ASCII without a space, a colon or any of the separators nats.go refuses.
func validName(k string) bool {
	if k == "" {
		return false
	}
	for i := range len(k) {
		if c := k[i]; c <= ' ' || c > '~' || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// headerBlock is h as a raw header block, nil when h is empty. It does
// not check names: h came from NATS.
func headerBlock(h map[string][]string) natsconn.Header {
	var b natsconn.Header
	for k, vs := range h {
		for _, v := range vs {
			b = natsconn.AppendHeader(b, k, v)
		}
	}
	return b
}

// headerMap is the raw header block b as a map, keys as they came; nil
// when b has no header.
func headerMap(b natsconn.Header) map[string][]string {
	var h map[string][]string
	for k, v := range b.All() {
		h = setHeader(h, string(k), string(v))
	}
	return h
}
