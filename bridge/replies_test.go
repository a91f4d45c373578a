package bridge

import (
	"strconv"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
)

// TestPeerRequestsOnBothPaths: a peer's request reaches the local service
// over the reply mux, on the bridge's own protocol and on nats.go alike:
// headers both ways (repeated values kept), no responders is 503, a
// service slower than the request's timeout is 504, and the replies'
// subscription is gone once the bridge stops.
func TestPeerRequestsOnBothPaths(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(testing.TB) *node
	}{
		{"natsconn", func(t testing.TB) *node { return startNode(t, Config{}) }},
		{"nats.go", func(t testing.TB) *node { return startNATSGoNode(t, startNATS(t), Config{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := startNode(t, Config{}), tc.start(t)
			before := b.srv.NumSubscriptions()
			serve(t, b.nc, "peer.recv.echo", func(m *nats.Msg) *nats.Msg {
				return &nats.Msg{Header: nats.Header{"X-Seen": m.Header.Values("X-Multi")}, Data: m.Data}
			})
			subscribe(t, b.nc, "peer.recv.slow") // a service that never answers

			h := with(to(b), "X-Multi", "1")
			h.Add("X-Multi", "2")
			reply := request(t, a.nc, "peer.request.echo", h, []byte("ping"))
			nobody := request(t, a.nc, "peer.request.nobody", to(b), nil)
			slow := request(t, a.nc, "peer.request.slow", with(to(b), HeaderTimeout, "300ms"), nil)

			if got := reply.Header.Values("X-Seen"); string(reply.Data) != "ping" || len(got) != 2 || got[0] != "1" || got[1] != "2" {
				t.Errorf("reply %q with %v, want ping with X-Seen 1 and 2", reply.Data, reply.Header)
			}
			if errCode(nobody) != "503" || errCode(slow) != "504" {
				t.Errorf("nobody serving: %q, a slow service: %q; want 503 and 504", errCode(nobody), errCode(slow))
			}
			if err := b.bridge.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
			// The test's two services in, the bridge's three (replies,
			// sends, requests) out.
			want := before + 2 - 3
			waitFor(t, func() bool { return b.srv.NumSubscriptions() == want })
		})
	}
}

// TestParseToken reads a reply subject's token, and only its own.
func TestParseToken(t *testing.T) {
	const prefix = "_INBOX.abc."
	for _, tc := range []struct {
		subject string
		tok     uint64
		ok      bool
	}{
		{"_INBOX.abc.1", 1, true},
		{"_INBOX.abc.18446744073709551615", 1<<64 - 1, true},
		{"_INBOX.abc.", 0, false},
		{"_INBOX.abd.1", 0, false},
		{"_INBOX.abc.1x", 0, false},
		{"_INBOX.abc.-1", 0, false},
		{"_INBOX.abc.1.2", 0, false},
		{"_INBOX.abc.123456789012345678901", 0, false},
		{"_INBOX.abc.18446744073709551616", 0, false},
	} {
		tok, ok := parseToken([]byte(tc.subject), prefix)
		if tok != tc.tok || ok != tc.ok {
			t.Errorf("parseToken(%q) = %d, %v; want %d, %v", tc.subject, tok, ok, tc.tok, tc.ok)
		}
	}
}

// FuzzParseToken: any subject the server hands over parses cleanly, and a
// token read back is the one written.
func FuzzParseToken(f *testing.F) {
	const prefix = "_INBOX.abc."
	for _, s := range []string{"_INBOX.abc.1", "_INBOX.abc.", "_INBOX.abc.99999999999999999999", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, subject string) {
		tok, ok := parseToken([]byte(subject), prefix)
		if !ok {
			return
		}
		want, err := strconv.ParseUint(subject[len(prefix):], 10, 64)
		if err != nil || want != tok {
			t.Errorf("%q read as %d; strconv says %d, %v", subject, tok, want, err)
		}
	})
}

// TestNoResponders knows the server's 503 in both forms.
func TestNoResponders(t *testing.T) {
	for _, tc := range []struct {
		h    string
		want bool
	}{
		{"NATS/1.0 503\r\n\r\n", true},
		{"NATS/1.0 503 No Responders\r\n\r\n", true},
		{"NATS/1.0\r\nStatus: 503\r\n\r\n", true},
		{"NATS/1.0\r\nX: 503\r\n\r\n", false},
		{"NATS/1.0 408\r\n\r\n", false},
		{"", false},
	} {
		if got := noResponders(natsconn.Header(tc.h)); got != tc.want {
			t.Errorf("noResponders(%q) = %v", tc.h, got)
		}
	}
}
