package hostile

import (
	"fmt"
	"slices"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge"
)

// TestAttackManyEndpoints is issue 18 row 9: a local client publishes one
// message naming 4,000 Peer-Endpoint values, 65 of them silent sinks. It
// is answered 400 at once, and not one datagram goes out.
func TestAttackManyEndpoints(t *testing.T) {
	_, nc := startBridge(t)
	var sinks []*natSink
	eps := make([]string, 0, 4000)
	for range bridge.DefaultMaxTargets + 1 {
		s := natNewSink(t)
		sinks = append(sinks, s)
		eps = append(eps, s.addr().String())
	}
	for i := len(eps); i < cap(eps); i++ {
		eps = append(eps, fmt.Sprintf("127.0.0.3:%d", 10000+i))
	}
	m, err := nc.RequestMsgWithContext(testCtx(t), &nats.Msg{Subject: "peer.send.x", Header: nats.Header{bridge.HeaderEndpoint: eps}})
	if err != nil {
		t.Fatal(err)
	}
	if code := m.Header.Get(bridge.HeaderErrorCode); code != "400" {
		t.Errorf("error code %q (%s), want 400", code, m.Header.Get(bridge.HeaderError))
	}
	for i, s := range sinks {
		if n := s.datagrams.Load(); n != 0 {
			t.Errorf("sink %d got %d datagrams, want none", i, n)
		}
	}
}

// TestAttackOneNodeNamedManyTimes is issue 18 row 10: one message naming
// the same Peer-Node 10,000 times. The peer gets it once, and the sender is
// told it was delivered.
func TestAttackOneNodeNamedManyTimes(t *testing.T) {
	a, anc := startBridge(t)
	b, bnc := startBridge(t)
	a.AddAddress(b.NodeID(), b.Addr().String())
	sub, err := bnc.SubscribeSync("peer.recv.dup")
	if err != nil {
		t.Fatal(err)
	}
	if err := bnc.Flush(); err != nil {
		t.Fatal(err)
	}
	h := nats.Header{bridge.HeaderNode: slices.Repeat([]string{b.NodeID().String()}, 10000)}
	ack, err := anc.RequestMsgWithContext(testCtx(t), &nats.Msg{Subject: "peer.send.dup", Header: h, Data: []byte("copy")})
	if err != nil {
		t.Fatal(err)
	}
	// Messages to one peer arrive in order: once the barrier is there,
	// every copy is.
	barrier := &nats.Msg{Subject: "peer.send.dup", Header: nats.Header{bridge.HeaderNode: {b.NodeID().String()}}, Data: []byte("barrier")}
	if _, err := anc.RequestMsgWithContext(testCtx(t), barrier); err != nil {
		t.Fatal(err)
	}
	copies := 0
	for {
		m, err := sub.NextMsgWithContext(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data) == "barrier" {
			break
		}
		copies++
	}
	if string(ack.Data) != `{"ok":true}` || copies != 1 {
		t.Errorf("ack %q %v, %d copies delivered; want {\"ok\":true} and 1", ack.Data, ack.Header, copies)
	}
}
