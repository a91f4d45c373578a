package natsconn

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func TestRoundTrip(t *testing.T) {
	cases := []struct {
		name   string
		reply  string
		header string
		data   string
	}{
		{"plain", "", "", "hello"},
		{"empty", "", "", ""},
		{"reply", "_INBOX.r1", "", "hi"},
		{"header", "", "NATS/1.0\r\nPeer-Node: n1\r\n\r\n", "payload"},
		{"header and reply, no data", "r.2", "NATS/1.0\r\nA: 1\r\n\r\n", ""},
	}
	s := runServer(t, &server.Options{})
	pub, sub := dial(t, s, Options{Name: "pub"}), dial(t, s, Options{Name: "sub"})
	ch := collect(t, sub, "rt.>", "")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := pub.Publish("rt.x", tc.reply, []byte(tc.header), []byte(tc.data)); err != nil {
				t.Fatal(err)
			}
			want := copied{"rt.x", tc.reply, tc.header, tc.data}
			if got := receive(t, ch); got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestQueueGroupShares(t *testing.T) {
	const n = 200
	s := runServer(t, &server.Options{})
	pub := dial(t, s, Options{})
	a := collect(t, dial(t, s, Options{}), "work", "q")
	b := collect(t, dial(t, s, Options{}), "work", "q")
	for range n {
		if err := pub.Publish("work", "", nil, []byte("job")); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, pub)
	var got [2]int
	for range n {
		select {
		case <-a:
			got[0]++
		case <-b:
			got[1]++
		case <-time.After(wait):
			t.Fatalf("got %v of %d", got, n)
		}
	}
	if got[0] == 0 || got[1] == 0 {
		t.Fatalf("one member got everything: %v", got)
	}
}

func TestUnsubscribe(t *testing.T) {
	s := runServer(t, &server.Options{})
	c := dial(t, s, Options{})
	got := make(chan string, 10)
	sub, err := c.Subscribe("u", "", func(m *Msg) { got <- string(m.Data) })
	if err != nil {
		t.Fatal(err)
	}
	flush(t, c)
	if err := sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	if err := sub.Unsubscribe(); err != nil {
		t.Fatalf("second Unsubscribe: %v", err)
	}
	ch := collect(t, c, "v", "")
	c.Publish("u", "", nil, []byte("dropped"))
	c.Publish("v", "", nil, []byte("marker"))
	receive(t, ch)
	if len(got) != 0 {
		t.Fatalf("got %q after Unsubscribe", <-got)
	}
}

func TestMaxPayload(t *testing.T) {
	s := runServer(t, &server.Options{MaxPayload: 1024})
	c := dial(t, s, Options{})
	ch := collect(t, c, "big", "")
	hdr := []byte("NATS/1.0\r\nK: v\r\n\r\n")
	cases := []struct {
		name   string
		header []byte
		size   int
		err    error
	}{
		{"at max", nil, 1024, nil},
		{"over max", nil, 1025, ErrMaxPayload},
		{"header counts", hdr, 1024 - len(hdr) + 1, ErrMaxPayload},
		{"header at max", hdr, 1024 - len(hdr), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.Publish("big", "", tc.header, make([]byte, tc.size)); !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
		})
	}
	flush(t, c)
	receive(t, ch)
	receive(t, ch)
	if c.MaxPayload() != 1024 || c.Err() != nil {
		t.Fatalf("MaxPayload %d, Err %v", c.MaxPayload(), c.Err())
	}
}

func TestClientChecks(t *testing.T) {
	s := runServer(t, &server.Options{})
	c := dial(t, s, Options{})
	h := func(*Msg) {}
	cases := []struct {
		name string
		err  error
		call func() error
	}{
		{"empty subject", ErrBadSubject, func() error { return c.Publish("", "", nil, nil) }},
		{"space", ErrBadSubject, func() error { return c.Publish("a b", "", nil, nil) }},
		{"empty token", ErrBadSubject, func() error { return c.Publish("a..b", "", nil, nil) }},
		{"trailing dot", ErrBadSubject, func() error { return c.Publish("a.", "", nil, nil) }},
		{"publish wildcard", ErrBadSubject, func() error { return c.Publish("a.*", "", nil, nil) }},
		{"bad reply", ErrBadSubject, func() error { return c.Publish("a", "r\r\n", nil, nil) }},
		{"header without version", ErrBadHeader, func() error { return c.Publish("a", "", []byte("K: v\r\n\r\n"), nil) }},
		{"header unterminated", ErrBadHeader, func() error { return c.Publish("a", "", []byte("NATS/1.0\r\nK: v\r\n"), nil) }},
		{"subscribe > not last", ErrBadSubject, func() error { _, err := c.Subscribe("a.>.b", "", h); return err }},
		{"subscribe bad queue", ErrBadSubject, func() error { _, err := c.Subscribe("a", "q 1", h); return err }},
		{"subscribe wildcards", nil, func() error { _, err := c.Subscribe("a.*.>", "q", h); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
		})
	}
	flush(t, c)
}

// TestHeadersByteExact: repeated keys, keys in any case, odd characters,
// empty values and colons in values arrive as they were sent, and the
// lookup finds every value.
func TestHeadersByteExact(t *testing.T) {
	s := runServer(t, &server.Options{})
	c := dial(t, s, Options{})
	ch := collect(t, c, "h", "")
	block := "NATS/1.0\r\nPeer-Node: a\r\npeer-node: b\r\nPEER-NODE:c\r\nX_odd.key~1: v:with:colons\r\n" +
		"Empty:\r\nSpaced:  \t lead and trail  \r\nPeer-Node: d\r\n\r\n"
	if err := c.Publish("h", "", []byte(block), []byte("x")); err != nil {
		t.Fatal(err)
	}
	m := receive(t, ch)
	if m.Header != block {
		t.Fatalf("header changed:\n%q\n%q", m.Header, block)
	}
	h := Header(m.Header)
	if got := values(h, "peer-node"); strings.Join(got, ",") != "a,b,c,d" {
		t.Fatalf("Peer-Node values %q", got)
	}
	cases := map[string]string{"x_odd.key~1": "v:with:colons", "EMPTY": "", "Spaced": "lead and trail  "}
	for k, want := range cases {
		if v, ok := h.Get(k); !ok || string(v) != want {
			t.Errorf("Get(%q) = %q, %v; want %q", k, v, ok, want)
		}
	}
}

func values(h Header, key string) []string {
	var out []string
	for v := range h.Values(key) {
		out = append(out, string(v))
	}
	return out
}

// TestPermissionViolation: the server's -ERR reaches ErrorHandler, and the
// Conn stays open.
func TestPermissionViolation(t *testing.T) {
	perms := &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: []string{"ok.>"}},
		Subscribe: &server.SubjectPermission{Allow: []string{"ok.>"}},
	}
	s := runServer(t, &server.Options{Users: []*server.User{{Username: "u", Password: "p", Permissions: perms}}})
	errs := make(chan error, 10)
	c := dial(t, s, Options{User: "u", Password: "p", ErrorHandler: func(err error) { errs <- err }})
	ch := collect(t, c, "ok.x", "")
	if err := c.Publish("denied", "", nil, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe("denied.sub", "", func(*Msg) {}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Publish", "Subscription"} {
		err := receive(t, errs)
		var se *ServerError
		if !errors.Is(err, ErrPermission) || !errors.As(err, &se) || se.Fatal() || !strings.Contains(se.Text, want) {
			t.Fatalf("got %v, want a permissions violation for %s", err, want)
		}
	}
	c.Publish("ok.x", "", nil, []byte("still open"))
	receive(t, ch)
}

// TestServerInvalidSubject: a SUB the server refuses as invalid reaches
// ErrorHandler and leaves the Conn open. The client's own checks would
// refuse the subject, so the line is written raw.
func TestServerInvalidSubject(t *testing.T) {
	s := runServer(t, &server.Options{})
	errs := make(chan error, 10)
	c := dial(t, s, Options{ErrorHandler: func(err error) { errs <- err }})
	if err := c.writeControl("SUB foo..bar 99\r\n", nil); err != nil {
		t.Fatal(err)
	}
	if err := receive(t, errs); !errors.Is(err, ErrBadSubject) {
		t.Fatalf("got %v, want ErrBadSubject", err)
	}
	flush(t, c)
}

func TestAuthorization(t *testing.T) {
	s := runServer(t, &server.Options{Username: "u", Password: "right"})
	cases := []struct {
		name string
		url  string
		opts Options
		err  error
	}{
		{"options", s.ClientURL(), Options{User: "u", Password: "right"}, nil},
		{"url", strings.Replace(s.ClientURL(), "nats://", "nats://u:right@", 1), Options{}, nil},
		{"wrong password", s.ClientURL(), Options{User: "u", Password: "wrong"}, ErrAuthorization},
		{"none", s.ClientURL(), Options{}, ErrAuthorization},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), wait)
			defer cancel()
			c, err := Dial(ctx, tc.url, tc.opts)
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if c != nil {
				c.Close()
			}
		})
	}
}

func TestServerShutdownClosesConn(t *testing.T) {
	s := runServer(t, &server.Options{})
	c := dial(t, s, Options{})
	s.Shutdown()
	select {
	case <-c.Done():
	case <-time.After(wait):
		t.Fatal("Conn still open after the server shut down")
	}
	if err := c.Err(); !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("Err() = %v, want ErrConnectionLost", err)
	}
	if err := c.Publish("x", "", nil, nil); !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("Publish after loss: %v", err)
	}
}

// TestCloseWritesBuffered: what was published before Close reaches the
// server; after Close everything says ErrClosed.
func TestCloseWritesBuffered(t *testing.T) {
	const n = 1000
	s := runServer(t, &server.Options{})
	sub := subscribeNATS(t, dialNATS(t, s), "closing")
	c := dial(t, s, Options{})
	for range n {
		c.Publish("closing", "", nil, []byte("m"))
	}
	c.Close()
	for i := range n {
		if _, err := sub.NextMsg(wait); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if !errors.Is(c.Err(), ErrClosed) || !errors.Is(c.Publish("x", "", nil, nil), ErrClosed) ||
		!errors.Is(c.Flush(t.Context()), ErrClosed) {
		t.Fatalf("after Close: Err %v", c.Err())
	}
}
