package connector

import (
	"net"
	"testing"
	"time"
)

// eventsOf records a connector's events on a channel.
func eventsOf(c *Connector) chan Event {
	ch := make(chan Event, 64)
	c.SetEvents(func(e Event) { ch <- e })
	return ch
}

func nextEvent(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(testTimeout):
		t.Fatal("no event")
		return Event{}
	}
}

// TestEventsAndPeers: a send opens a connection both sides report, Peers
// shows it, and closing one side reports the close on the other.
func TestEventsAndPeers(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, got := startNode(t, Config{})
	evA, evB := eventsOf(a), eventsOf(b)
	if err := a.Send(testCtx(t), Outbound{Target: targetOf(b), Type: "x", Payload: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	recv(t, got)
	if e := nextEvent(t, evA); e.Kind != EventOpened || e.Node != b.NodeID() || e.Path != PathDirect || e.Remote != b.Addr() {
		t.Errorf("a's event %+v", e)
	}
	if e := nextEvent(t, evB); e.Kind != EventOpened || e.Node != a.NodeID() || e.Path != PathDirect {
		t.Errorf("b's event %+v", e)
	}
	peers := a.Peers()
	if len(peers) != 1 || peers[0].Node != b.NodeID() || !peers[0].Pooled || peers[0].Path != PathDirect ||
		peers[0].BytesOut == 0 || peers[0].BytesIn == 0 || peers[0].Since.IsZero() || peers[0].Remote != b.Addr() {
		t.Errorf("a's peers %+v", peers)
	}
	if !b.Listening() {
		t.Error("b is not listening after Start")
	}
	b.Close()
	if b.Listening() {
		t.Error("b is listening after Close")
	}
	if e := nextEvent(t, evA); e.Kind != EventClosed || e.Node != b.NodeID() || e.Reason != "closed by peer: shutdown" || e.BytesOut == 0 {
		t.Errorf("a's event after b closed: %+v", e)
	}
}

// TestEventPathChanged: a punched connection that replaces a relayed one is
// reported as a path change.
func TestEventPathChanged(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, _ := startNode(t, Config{})
	ev := eventsOf(a)
	addr := net.UDPAddrFromAddrPort(b.Addr())
	if _, err := a.DialPath(testCtx(t), nil, addr, b.NodeID(), PathRelayed); err != nil {
		t.Fatal(err)
	}
	if e := nextEvent(t, ev); e.Kind != EventOpened || e.Path != PathRelayed {
		t.Errorf("first event %+v", e)
	}
	if _, err := a.DialPath(testCtx(t), nil, addr, b.NodeID(), PathPunched); err != nil {
		t.Fatal(err)
	}
	if e := nextEvent(t, ev); e.Kind != EventOpened || e.Path != PathPunched {
		t.Errorf("second event %+v", e)
	}
	if e := nextEvent(t, ev); e.Kind != EventPathChanged || e.From != PathRelayed || e.Path != PathPunched || e.Node != b.NodeID() {
		t.Errorf("third event %+v", e)
	}
}
