package natpunch

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"net/http"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// wsFrame makes one masked client frame of opcode op carrying p.
func wsFrame(op byte, p []byte) []byte {
	b := []byte{0x80 | op}
	switch {
	case len(p) < 126:
		b = append(b, 0x80|byte(len(p)))
	case len(p) <= 0xffff:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(len(p)))
	}
	b = append(b, 0, 0, 0, 0) // a zero mask leaves the payload as it is
	return append(b, p...)
}

// FuzzTCPRelayStream writes arbitrary bytes to a gateway's TCP relay after
// an authenticated WebSocket upgrade, as a hostile client would, and
// checks the gateway frees the client once the connection closes.
//
//	go test -run '^$' -fuzz '^FuzzTCPRelayStream$' -fuzztime 30s ./natpunch
func FuzzTCPRelayStream(f *testing.F) {
	g := natpunchtest.StartGateway(f, gateway.Config{})
	conf := wire.RelayClientTLS(natpunchtest.Identity(f), g.NodeID())
	addr := g.Addrs()[0].String()
	f.Add(wsFrame(0x2, wire.AppendRelay(nil, wire.SessionID{1}, []byte("quic"))))
	f.Add(wsFrame(0x2, make([]byte, wire.MaxTCPDatagram+1)))
	f.Add(wsFrame(0x1, []byte("text")))
	f.Add(append(wsFrame(0x9, []byte("ping")), wsFrame(0x8, []byte{3, 232})...))
	f.Add([]byte{0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x02, 0x81, 0, 0, 0, 0, 'a'})
	f.Fuzz(func(t *testing.T, stream []byte) {
		c, err := tls.Dial("tcp", addr, conf)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		req := "GET " + wire.TCPRelayPath + " HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade: %s", resp.Status)
		}
		c.Write(stream)
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if !natpunchtest.WaitUntil(ctx, func() bool { n, _, _ := g.TCPStats(); return n == 0 }) {
			t.Fatal("the gateway kept a client whose connection closed")
		}
	})
}
