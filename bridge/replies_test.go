package bridge

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
)

// TestPeerRequestsOnBothPaths: a peer's request reaches the local service
// over the reply mux, on the bridge's own protocol and on nats.go alike:
// headers both ways (repeated values kept), a second answer to one request
// is dropped without holding up the next, no responders is 503, a
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
			for range 2 {                        // two services answer each request: the first answer wins
				serve(t, b.nc, "peer.recv.twice", func(m *nats.Msg) *nats.Msg { return &nats.Msg{Data: m.Data} })
			}

			h := with(to(b), "X-Multi", "1")
			h.Add("X-Multi", "2")
			reply := request(t, a.nc, "peer.request.echo", h, []byte("ping"))
			twice := request(t, a.nc, "peer.request.twice", to(b), []byte("once"))
			after := request(t, a.nc, "peer.request.echo", to(b), []byte("after"))
			nobody := request(t, a.nc, "peer.request.nobody", to(b), nil)
			slow := request(t, a.nc, "peer.request.slow", with(to(b), HeaderTimeout, "300ms"), nil)

			if got := reply.Header.Values("X-Seen"); string(reply.Data) != "ping" || len(got) != 2 || got[0] != "1" || got[1] != "2" {
				t.Errorf("reply %q with %v, want ping with X-Seen 1 and 2", reply.Data, reply.Header)
			}
			if string(twice.Data) != "once" || string(after.Data) != "after" {
				t.Errorf("with two answers to one request: %q, then %q; want once, then after", twice.Data, after.Data)
			}
			if errCode(nobody) != "503" || errCode(slow) != "504" {
				t.Errorf("nobody serving: %q, a slow service: %q; want 503 and 504", errCode(nobody), errCode(slow))
			}
			if err := b.bridge.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
			// The test's four services in, the bridge's three (replies,
			// sends, requests) out.
			want := before + 4 - 3
			waitFor(t, func() bool { return b.srv.NumSubscriptions() == want })
		})
	}
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

// TestDeliverKeepsTheFirstAnswer: answers to a request that already has
// one are dropped, on the reader's goroutine, without blocking it; answers
// to tokens nobody waits for, or outside the inbox, are dropped too.
func TestDeliverKeepsTheFirstAnswer(t *testing.T) {
	r := newReplyMux()
	ch := make(chan answer, 1)
	r.waiting["7"] = ch
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, s := range []string{"first", "second", "third"} {
			r.deliver(&natsconn.Msg{Subject: []byte(r.prefix + "7"), Data: []byte(s)})
		}
		r.deliver(&natsconn.Msg{Subject: []byte(r.prefix + "8"), Data: []byte("nobody waits")})
		r.deliver(&natsconn.Msg{Subject: []byte("_INBOX.other.7"), Data: []byte("not ours")})
	}()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("deliver blocked on a second answer")
	}
	if a := <-ch; string(a.data) != "first" || len(ch) != 0 {
		t.Errorf("got %q with %d more; want first alone", a.data, len(ch))
	}
}
