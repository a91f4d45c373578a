package bridge

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
	"github.com/peerbridge/peerbridge/connector"
)

func TestErrorCodes(t *testing.T) {
	a := startNode(t, Config{MaxPayload: 1024, MaxTargets: 3})
	b, c := startNode(t, Config{}), startNode(t, Config{})
	subscribe(t, b.nc, "peer.recv.slow") // never answers
	serve(t, b.nc, "peer.recv.teapot", func(*nats.Msg) *nats.Msg {
		return &nats.Msg{Header: nats.Header{HeaderErrorCode: {"418"}, HeaderError: {"I'm a teapot"}}}
	})
	// Connect first, so the 300 ms timeout below times the request, not the
	// handshake.
	request(t, a.nc, "peer.request.teapot", to(b), nil)
	unknown := newID(t).NodeID().String()
	dead := deadEndpoint(t)
	mismatch := nats.Header{HeaderNode: {c.id()}, HeaderEndpoint: {b.endpoint()}}
	four := nats.Header{HeaderEndpoint: {dead, b.endpoint(), c.endpoint(), a.endpoint()}}
	tests := []struct {
		name    string
		subject string
		h       nats.Header
		size    int
		want    string
	}{
		{"request without target", "peer.request.x", nats.Header{"X-A": {"1"}}, 0, "400"},
		{"request with bad node ID", "peer.request.x", nats.Header{HeaderNode: {"not-a-node"}}, 0, "400"},
		{"request with bad endpoint", "peer.request.x", nats.Header{HeaderEndpoint: {"nohostport"}}, 0, "400"},
		{"request with bad timeout", "peer.request.x", with(to(b), HeaderTimeout, "soon"), 0, "400"},
		{"request with negative timeout", "peer.request.x", with(to(b), HeaderTimeout, "-1s"), 0, "400"},
		{"request to several peers", "peer.request.x", to(b, c), 0, "400"},
		{"request with unpaired headers", "peer.request.x", with(to(b), HeaderNode, c.id()), 0, "400"},
		{"request to unknown node", "peer.request.x", nats.Header{HeaderNode: {unknown}}, 0, "404"},
		{"request over the payload limit", "peer.request.x", to(b), 1025, "413"},
		{"request to unreachable peer", "peer.request.x", nats.Header{HeaderEndpoint: {dead}}, 0, "503"},
		{"request to the wrong node", "peer.request.x", mismatch, 0, "503"},
		{"request nobody serves", "peer.request.nobody", to(b), 0, "503"},
		{"request that times out", "peer.request.slow", with(to(b), HeaderTimeout, "300ms"), 0, "504"},
		{"request the service refuses", "peer.request.teapot", to(b), 0, "418"},
		{"send without target", "peer.send.x", nats.Header{}, 0, "400"},
		{"send with bad timeout", "peer.send.x", with(to(b), HeaderTimeout, "1 second"), 0, "400"},
		{"send to unknown node", "peer.send.x", nats.Header{HeaderNode: {unknown}}, 0, "404"},
		{"send over the payload limit", "peer.send.x", to(b), 1025, "413"},
		{"send to unreachable peer", "peer.send.x", nats.Header{HeaderEndpoint: {dead}}, 0, "503"},
		{"send to the wrong node", "peer.send.x", mismatch, 0, "503"},
		{"send to more peers than MaxTargets", "peer.send.x", four, 0, "400"},
		{"request with a malformed relay", "peer.request.x", with(to(b), HeaderRelay, b.endpoint()), 0, "400"},
		{"send with a malformed relay", "peer.send.x", with(to(b), HeaderRelay, "nobody@nowhere"), 0, "400"},
		{"request with an unknown punch option", "peer.request.x", with(to(b), HeaderPunch, "never"), 0, "400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := request(t, a.nc, tt.subject, tt.h, make([]byte, tt.size))

			code, text := errCode(m), m.Header.Get(HeaderError)
			if code != tt.want || text == "" || len(m.Data) != 0 {
				t.Errorf("error %q %q with %d bytes, want %s, a text and no payload", code, text, len(m.Data), tt.want)
			}
		})
	}
}

func TestRemoteErrorKeepsItsCode(t *testing.T) {
	a := startNode(t, Config{})
	b := startNodeOn(t, runNATS(t, &server.Options{MaxPayload: 512}), Config{})
	serve(t, b.nc, "peer.recv.big", echo)
	tests := []struct {
		name    string
		subject string
	}{
		{"send", "peer.send.big"},
		{"request", "peer.request.big"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := request(t, a.nc, tt.subject, to(b), make([]byte, 800))

			code, text := errCode(m), m.Header.Get(HeaderError)
			if code != "413" || !strings.Contains(text, "maximum payload") || m.Header.Get(HeaderFrom) != b.id() {
				t.Errorf("error %q %q from %q, want 413 from b's NATS, Peer-From %s", code, text, m.Header.Get(HeaderFrom), b.id())
			}
		})
	}
}

func TestFailuresWithoutReplyAreCounted(t *testing.T) {
	a := startNode(t, Config{})
	unknown := nats.Header{HeaderNode: {newID(t).NodeID().String()}}
	for _, subject := range []string{"peer.request.x", "peer.send.x"} {
		if err := a.nc.PublishMsg(&nats.Msg{Subject: subject, Header: unknown}); err != nil {
			t.Fatal(err)
		}
		// Each subscription handles its messages in order, so once this
		// answer arrives the message before it has been taken; a send's
		// failure may still be on its way from its peer's queue.
		request(t, a.nc, subject, nats.Header{}, nil)
	}
	deadline := time.Now().Add(10 * time.Second)
	for a.bridge.Stats().Failed < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling a counter, bounded by the deadline
	}
	if got := a.bridge.Stats().Failed; got != 4 {
		t.Errorf("Failed = %d, want 4", got)
	}
}

// TestConnectorRefusalsAre503: a full send queue, a peer going away, and
// NATS refusing to take more (a full write buffer, a lost connection) are
// answered 503, each with its own text.
func TestConnectorRefusalsAre503(t *testing.T) {
	refusals := []error{connector.ErrBusy, connector.ErrGoingAway, ErrBusy, natsconn.ErrPendingFull, natsconn.ErrConnectionLost}
	for _, err := range refusals {
		m := errorMsg(fmt.Errorf("%w: detail", err))
		code, _ := m.header.Get(HeaderErrorCode)
		if text, _ := m.header.Get(HeaderError); string(code) != "503" || !strings.Contains(string(text), err.Error()) {
			t.Errorf("%v: %q %q, want 503 with its text", err, code, text)
		}
	}
}
