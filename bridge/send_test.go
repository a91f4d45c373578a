package bridge

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/connector"
)

func TestSendDeliversPayloadAndHeaders(t *testing.T) {
	a, b := startNode(t, Config{}), startNode(t, Config{})
	sub := subscribe(t, b.nc, "peer.recv.greet.hello")
	h := with(with(to(b), "X-Trace", "abc"), "X-Multi", "1")
	h.Add("X-Multi", "2")
	h.Add("peer-timeout", "3s") // the bridge's headers are stripped whatever their case

	if err := a.nc.PublishMsg(&nats.Msg{Subject: "peer.send.greet.hello", Header: h, Data: []byte("hi")}); err != nil {
		t.Fatal(err)
	}
	got := next(t, sub)

	want := nats.Header{HeaderFrom: {a.id()}, "X-Trace": {"abc"}, "X-Multi": {"1", "2"}}
	if string(got.Data) != "hi" || !reflect.DeepEqual(got.Header, want) {
		t.Errorf("got %q with headers %v, want %q with %v", got.Data, got.Header, "hi", want)
	}
}

func TestSendWithReplyIsAcknowledged(t *testing.T) {
	a, b := startNode(t, Config{}), startNode(t, Config{})
	sub := subscribe(t, b.nc, "peer.recv.note")

	ack := request(t, a.nc, "peer.send.note", to(b), []byte("x"))
	next(t, sub)

	if string(ack.Data) != `{"ok":true}` || errCode(ack) != "" {
		t.Errorf("ack = %q, error code %q; want {\"ok\":true} and none", ack.Data, errCode(ack))
	}
}

func TestSendKeepsOrder(t *testing.T) {
	a, b := startNode(t, Config{}), startNode(t, Config{})
	sub := subscribe(t, b.nc, "peer.recv.seq")
	const n = 500
	for i := range n {
		m := &nats.Msg{Subject: "peer.send.seq", Header: to(b), Data: []byte(strconv.Itoa(i))}
		if err := a.nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if got := string(next(t, sub).Data); got != strconv.Itoa(i) {
			t.Fatalf("message %d is %s", i, got)
		}
	}
}

func TestSendFansOut(t *testing.T) {
	a := startNode(t, Config{})
	peers := []*node{startNode(t, Config{}), startNode(t, Config{}), startNode(t, Config{})}
	byID := nats.Header{}
	for _, p := range peers {
		a.conn.AddAddress(p.conn.NodeID(), p.endpoint())
		byID.Add(HeaderNode, p.id())
	}
	tests := []struct {
		name string
		h    nats.Header
	}{
		{"node ID and endpoint pairs", to(peers...)},
		{"node IDs with known addresses", byID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subs := make([]*nats.Subscription, len(peers))
			for i, p := range peers {
				subs[i] = subscribe(t, p.nc, "peer.recv.news")
			}

			m := request(t, a.nc, "peer.send.news", tt.h, []byte("extra"))
			for _, sub := range subs {
				next(t, sub)
			}

			want := SendReply{OK: true, Sent: 3, Results: okResults(peers)}
			if got := decodeSendReply(t, m); !reflect.DeepEqual(got, want) || errCode(m) != "" {
				t.Errorf("reply %+v with error code %q, want %+v and none", got, errCode(m), want)
			}
		})
	}
}

func TestSendFanOutReportsEachPeer(t *testing.T) {
	a, b, c := startNode(t, Config{}), startNode(t, Config{}), startNode(t, Config{})
	unknown, unknown2, dead := newID(t).NodeID().String(), newID(t).NodeID().String(), newID(t).NodeID().String()
	deadAt := deadEndpoint(t)
	tests := []struct {
		name     string
		h        nats.Header
		want     SendReply
		wantCode string
	}{
		{
			name: "some fail",
			h:    with(with(to(b, c), HeaderNode, dead), HeaderEndpoint, deadAt),
			want: SendReply{Sent: 2, Failed: 1, Results: []SendResult{
				{Node: b.id(), Endpoint: b.endpoint(), OK: true},
				{Node: c.id(), Endpoint: c.endpoint(), OK: true},
				{Node: dead, Endpoint: deadAt, Code: 503},
			}},
		},
		{
			name: "all fail",
			h:    nats.Header{HeaderNode: {unknown, unknown2}},
			want: SendReply{Failed: 2, Results: []SendResult{
				{Node: unknown, Code: 404},
				{Node: unknown2, Code: 404},
			}},
			wantCode: "404",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := request(t, a.nc, "peer.send.news", tt.h, nil)

			got := decodeSendReply(t, m)
			for i := range got.Results {
				got.Results[i].Error = "" // the texts are the connector's
			}
			if !reflect.DeepEqual(got, tt.want) || errCode(m) != tt.wantCode {
				t.Errorf("reply %+v with error code %q, want %+v and %q", got, errCode(m), tt.want, tt.wantCode)
			}
		})
	}
}

// okResults is the SendReply results for every target in h acknowledging.
// okResults are the results of a message every one of peers acknowledged:
// each names the endpoint that carried it, whether the headers gave one or
// not.
func okResults(peers []*node) []SendResult {
	out := make([]SendResult, len(peers))
	for i, p := range peers {
		out[i] = SendResult{Node: p.id(), Endpoint: p.endpoint(), OK: true}
	}
	return out
}

func decodeSendReply(t testing.TB, m *nats.Msg) SendReply {
	t.Helper()
	var r SendReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		t.Fatalf("reply %q: %v", m.Data, err)
	}
	return r
}

// TestSendsInFlightBounded: past MaxSends messages waiting for their
// peers' acknowledgements, a message is answered 503 at once.
func TestSendsInFlightBounded(t *testing.T) {
	a := startNode(t, Config{MaxSends: 1})
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	peer := startConnector(t)
	peer.SetHandler(connector.HandlerFunc(func(ctx context.Context, _ *connector.Message) (*connector.Response, error) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, nil
	}))
	h := nats.Header{HeaderNode: {peer.NodeID().String()}, HeaderEndpoint: {peer.Addr().String()}}
	replies := subscribe(t, a.nc, "replies")
	if err := a.nc.PublishMsg(&nats.Msg{Subject: "peer.send.hold", Reply: "replies", Header: h}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-time.After(wait):
		t.Fatal("the first message did not arrive")
	}

	second := request(t, a.nc, "peer.send.hold", h, nil)
	close(release)
	first := next(t, replies)

	if errCode(second) != "503" || !strings.Contains(second.Header.Get(HeaderError), "wait for acknowledgement") {
		t.Errorf("second message answered %q %q, want 503 busy", errCode(second), second.Header.Get(HeaderError))
	}
	if string(first.Data) != ackOne {
		t.Errorf("first message answered %q %q, want %s", first.Data, errCode(first), ackOne)
	}
}
