package bridge

import (
	"testing"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
)

// FuzzSplitHeaders: whatever the header block, no bridge header is
// forwarded, and every value read is one the block holds.
func FuzzSplitHeaders(f *testing.F) {
	f.Add([]byte("NATS/1.0\r\nPeer-Node: x\r\nX-A: 1\r\nx-a: 2\r\n\r\n"))
	f.Add([]byte("NATS/1.0\r\npeer-punch: skip\r\nPEER-RELAY: a@b:1\r\n\r\n"))
	f.Add([]byte("NATS/1.0 503\r\n\r\n"))
	f.Add([]byte("NATS/1.0\r\n: v\r\nno colon\r\nK:\r\n"))
	f.Fuzz(func(t *testing.T, block []byte) {
		var own peerHeaders
		own.init()
		rest := splitHeaders(natsconn.Header(block), &own)
		for k := range rest {
			if isBridgeHeader(k) {
				t.Fatalf("bridge header %q forwarded", k)
			}
		}
		n := 0
		for k := range natsconn.Header(block).All() {
			if isBridgeKey(k) {
				n++
			}
		}
		if got := len(own.nodes) + len(own.endpoints) + len(own.timeout) + len(own.relay) + len(own.punch); got > n {
			t.Fatalf("read %d bridge headers of %d", got, n)
		}
	})
}
