package natsconn

import (
	"reflect"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// oddHeader has repeated keys, keys in several cases and odd characters,
// an empty value and colons in a value.
func oddHeader() nats.Header {
	return nats.Header{
		"Peer-Node":   {"n1", "n2", "n3"},
		"peer-relay":  {"GW@127.0.0.1:7000"},
		"X_odd.key~1": {"a:b:c"},
		"Empty":       {""},
	}
}

// TestFromNatsGo: a nats.go HPUB arrives byte-exact as nats.go wrote it,
// and the lookup reads the same values nats.go would.
func TestFromNatsGo(t *testing.T) {
	s := runServer(t, &server.Options{})
	ch := collect(t, dial(t, s, Options{}), "in", "")
	nc := dialNATS(t, s)
	want := oddHeader()
	if err := nc.PublishMsg(&nats.Msg{Subject: "in", Reply: "r", Header: want, Data: []byte("data")}); err != nil {
		t.Fatal(err)
	}
	m := receive(t, ch)
	if m.Subject != "in" || m.Reply != "r" || m.Data != "data" {
		t.Fatalf("got %+v", m)
	}
	got, err := nats.DecodeHeadersMsg([]byte(m.Header))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("header %q decodes to %v (%v), want %v", m.Header, got, err, want)
	}
	for k, vs := range want {
		if got := values(Header(m.Header), k); !reflect.DeepEqual(got, vs) {
			t.Errorf("values of %q: %q, want %q", k, got, vs)
		}
	}
}

// TestToNatsGo: an HPUB built with AppendHeader reaches nats.go as the
// header map it describes.
func TestToNatsGo(t *testing.T) {
	s := runServer(t, &server.Options{})
	sub := subscribeNATS(t, dialNATS(t, s), "out")
	c := dial(t, s, Options{})
	want := oddHeader()
	var h Header
	for _, k := range []string{"Peer-Node", "peer-relay", "X_odd.key~1", "Empty"} {
		for _, v := range want[k] {
			h = AppendHeader(h, k, v)
		}
	}
	if err := c.Publish("out", "", h, []byte("data")); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(wait)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Header, want) || string(m.Data) != "data" {
		t.Fatalf("nats.go got header %v data %q, want %v", m.Header, m.Data, want)
	}
}

// TestNoResponders: CONNECT asks for no_responders, so a request nobody
// serves is answered at once with status 503.
func TestNoResponders(t *testing.T) {
	s := runServer(t, &server.Options{})
	c := dial(t, s, Options{})
	ch := collect(t, c, "_INBOX.me", "")
	if err := c.Publish("nobody.home", "_INBOX.me", nil, []byte("req")); err != nil {
		t.Fatal(err)
	}
	m := receive(t, ch)
	if code, _ := Header(m.Header).Status(); string(code) != "503" {
		t.Fatalf("reply header %q, want status 503", m.Header)
	}
}
