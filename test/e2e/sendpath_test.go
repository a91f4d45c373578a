package e2e_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/modules"
)

// blackHole is a loopback UDP socket that reads and drops everything, as a
// peer behind a firewall that silently drops packets looks to a dialler.
func blackHole(t *testing.T) string {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		c.Close()
		<-done
	})
	return c.LocalAddr().String()
}

// deadPeer is a static peer (as --peer names it) whose endpoint drops
// everything: its node ID, as a header value.
func deadPeer(t *testing.T) (connector.Target, string) {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	tg := connector.Target{NodeID: id.NodeID(), Endpoint: blackHole(t)}
	return tg, id.NodeID().String()
}

// TestDeadPeerDoesNotStallOthers: with 20 sends pending to a peer that
// drops every packet, 50 sends to a healthy pooled peer are each
// acknowledged before a 3 s client timeout (issue 10, point 1).
func TestDeadPeerDoesNotStallOthers(t *testing.T) {
	dead, deadID := deadPeer(t)
	b := startNode(t, modules.Config{})
	a := startNode(t, modules.Config{Peers: []connector.Target{dead}})
	a.knows(b)
	subscribe(t, b.nc, "peer.recv.hol")
	mustOK(t, request(t, a.nc, "peer.send.hol", to(b), []byte("warm"))) // pooled from now on

	inbox := nats.NewInbox()
	deadAcks := subscribe(t, a.nc, inbox)
	for range 20 {
		m := &nats.Msg{Subject: "peer.send.hol", Reply: inbox, Header: nats.Header{bridge.HeaderNode: {deadID}}, Data: []byte("lost")}
		if err := a.nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	var late int
	for i := range 50 {
		m, err := a.nc.RequestMsg(&nats.Msg{Subject: "peer.send.hol", Header: to(b), Data: []byte{byte(i)}}, 3*time.Second)
		if err != nil || errCode(m) != "" {
			late++
		}
	}
	if late > 0 {
		t.Errorf("%d of 50 sends to a healthy peer were not acknowledged within 3 s while a dead peer had 20 pending", late)
	}
	// The dead peer's sends are answered too, each with an error.
	for range 20 {
		if m := next(t, deadAcks); errCode(m) != "503" {
			t.Errorf("send to a black hole answered %q %q, want 503", errCode(m), m.Header.Get(bridge.HeaderError))
		}
	}
}

// TestUnreachableStaticPeerIs503BeforeClientTimeout: a request to a static
// peer that drops every packet is answered 503 within a stock client's
// timeout, with the default settings (issue 10, point 4).
func TestUnreachableStaticPeerIs503BeforeClientTimeout(t *testing.T) {
	dead, deadID := deadPeer(t)
	a := startNode(t, modules.Config{Peers: []connector.Target{dead}})
	for _, subject := range []string{"peer.request.x", "peer.send.x"} {
		start := time.Now()
		m, err := a.nc.RequestMsg(&nats.Msg{Subject: subject, Header: nats.Header{bridge.HeaderNode: {deadID}}}, stockTimeout)
		if err != nil {
			t.Fatalf("%s to an unreachable peer: %v, want a 503 before the client's %v timeout", subject, err, stockTimeout)
		}
		if errCode(m) != "503" {
			t.Errorf("%s: %q %q, want 503", subject, errCode(m), m.Header.Get(bridge.HeaderError))
		}
		t.Logf("%s: 503 after %v", subject, time.Since(start).Round(time.Millisecond))
	}
}

// TestRemoteErrorsNameTheRemoteNode: an error the remote bridge produced
// carries Peer-From; one this bridge produced does not (issue 10, point 4).
func TestRemoteErrorsNameTheRemoteNode(t *testing.T) {
	a, b := startNode(t, modules.Config{}), startNode(t, modules.Config{})
	a.knows(b)
	m := request(t, a.nc, "peer.request.nobody", to(b), nil)
	if errCode(m) != "503" || m.Header.Get(bridge.HeaderFrom) != b.id() {
		t.Errorf("remote no-responders: %q, Peer-From %q, want 503 from %s", errCode(m), m.Header.Get(bridge.HeaderFrom), b.id())
	}
	m = request(t, a.nc, "peer.request.x", nats.Header{bridge.HeaderNode: {identityID(t)}}, nil)
	if errCode(m) != "404" || m.Header.Get(bridge.HeaderFrom) != "" {
		t.Errorf("local 404: %q, Peer-From %q, want 404 without Peer-From", errCode(m), m.Header.Get(bridge.HeaderFrom))
	}
}

// TestWrongEndpointHintDoesNotPoisonTheAddress: a Peer-Endpoint where the
// node is not is a hint for that one message; the node stays reachable by
// ID, and with a pooled connection the hint is not used and the result says
// which endpoint carried the message (issue 10, point 2).
func TestWrongEndpointHintDoesNotPoisonTheAddress(t *testing.T) {
	a, b, c := startNode(t, modules.Config{}), startNode(t, modules.Config{}), startNode(t, modules.Config{})
	a.knows(b)
	echo(t, b.nc, "peer.recv.echo")

	wrong := with(with(to(b), bridge.HeaderEndpoint, c.endpoint()), bridge.HeaderTimeout, "2s")
	if m := request(t, a.nc, "peer.request.echo", wrong, nil); errCode(m) != "503" {
		t.Fatalf("hint at another node's endpoint: %q %q, want 503", errCode(m), m.Header.Get(bridge.HeaderError))
	}
	mustOK(t, request(t, a.nc, "peer.request.echo", to(b), []byte("by id")))

	// Pooled now: a wrong hint is not dialled, and the result says so.
	subscribe(t, b.nc, "peer.recv.note")
	h := with(to(b, c), bridge.HeaderEndpoint, deadEndpoint(t))
	h.Add(bridge.HeaderEndpoint, c.endpoint())
	ack := request(t, a.nc, "peer.send.note", h, []byte("hi"))
	var reply bridge.SendReply
	if err := json.Unmarshal(ack.Data, &reply); err != nil {
		t.Fatalf("ack %q: %v", ack.Data, err)
	}
	if !reply.OK || reply.Results[0].Endpoint != b.endpoint() || reply.Results[1].Endpoint != c.endpoint() {
		t.Errorf("send reply %+v, want both ok, carried by %s and %s", reply, b.endpoint(), c.endpoint())
	}
}

// TestRouteHeaders: Peer-Relay and Peer-Punch are checked; malformed values
// are a 400, good ones are accepted.
func TestRouteHeaders(t *testing.T) {
	a, b := startNode(t, modules.Config{}), startNode(t, modules.Config{})
	a.knows(b)
	echo(t, b.nc, "peer.recv.echo")
	subscribe(t, b.nc, "peer.recv.note")
	tests := []struct {
		name, key, value, want string
	}{
		{"relay without node ID", bridge.HeaderRelay, "127.0.0.1:4242", "400"},
		{"relay without endpoint", bridge.HeaderRelay, b.id(), "400"},
		{"relay garbage", bridge.HeaderRelay, "x@y", "400"},
		{"punch other than skip", bridge.HeaderPunch, "always", "400"},
		{"relay given", bridge.HeaderRelay, b.id() + "@" + b.endpoint(), ""},
		{"punch skipped", bridge.HeaderPunch, "skip", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, subject := range []string{"peer.request.echo", "peer.send.note"} {
				m := request(t, a.nc, subject, with(to(b), tt.key, tt.value), nil)
				if errCode(m) != tt.want {
					t.Errorf("%s with %s: %q: %q %q, want %q", subject, tt.key, tt.value, errCode(m), m.Header.Get(bridge.HeaderError), tt.want)
				}
			}
		})
	}
}

// TestRelayHeaderReachesNATTraversal: for a node with no known address,
// NAT traversal runs, steered by Peer-Relay: a relay that is not one of the
// bridge's gateways is refused (400), where without the header the node is
// simply unknown (404).
func TestRelayHeaderReachesNATTraversal(t *testing.T) {
	a, b := startNode(t, modules.Config{}), startNode(t, modules.Config{})
	nobody := nats.Header{bridge.HeaderNode: {identityID(t)}}
	if m := request(t, a.nc, "peer.request.x", nobody, nil); errCode(m) != "404" {
		t.Errorf("unknown node: %q %q, want 404", errCode(m), m.Header.Get(bridge.HeaderError))
	}
	m := request(t, a.nc, "peer.request.x", with(nobody, bridge.HeaderRelay, b.id()+"@"+b.endpoint()), nil)
	if errCode(m) != "400" || !strings.Contains(m.Header.Get(bridge.HeaderError), "not a configured gateway") {
		t.Errorf("unknown node through a relay that is no gateway: %q %q, want 400", errCode(m), m.Header.Get(bridge.HeaderError))
	}
}

// stopRuns is how many times TestStopKeepsInFlightReplies stops a bridge.
const stopRuns = 50

// TestStopKeepsInFlightReplies stops a bridge with requests in flight both
// ways, stopRuns times, and counts the replies lost: none may be, small or
// 64 KiB (issue 10, point 3).
func TestStopKeepsInFlightReplies(t *testing.T) {
	var lost int
	for run := range stopRuns {
		lost += stopWithRequestsInFlight(t, run)
	}
	t.Logf("%d runs, %d replies lost", stopRuns, lost)
	if lost > 0 {
		t.Errorf("%d of %d replies lost while stopping", lost, 4*stopRuns)
	}
}

// stopWithRequestsInFlight runs one stop: requests from a to b and from b
// to a, short and 64 KiB, are in flight when b stops. It returns how many
// of the four replies were lost.
func stopWithRequestsInFlight(t *testing.T, run int) int {
	a, b := startNode(t, modules.Config{}), startNode(t, modules.Config{Grace: 5 * time.Second})
	defer a.stop(t)
	defer b.stop(t)
	a.knows(b)
	b.knows(a)
	big := bytes.Repeat([]byte{byte(run)}, 64<<10)
	arrived := make(chan struct{}, 4)
	release := make(chan struct{})
	var handlers sync.WaitGroup
	defer handlers.Wait()
	for _, n := range []*node{a, b} {
		// Each request answered on a goroutine of its own: a subscription's
		// callbacks run one at a time.
		sub, err := n.nc.Subscribe("peer.recv.slow.>", func(m *nats.Msg) {
			handlers.Go(func() {
				arrived <- struct{}{}
				<-release
				data := []byte("small")
				if m.Subject == "peer.recv.slow.big" {
					data = big
				}
				m.Respond(data)
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
	}
	for _, n := range []*node{a, b} {
		if err := n.nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	type call struct {
		from, to *node
		typ      string
		want     []byte
	}
	calls := []call{{a, b, "small", []byte("small")}, {a, b, "big", big}, {b, a, "small", []byte("small")}, {b, a, "big", big}}
	results := make(chan error, len(calls))
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Go(func() {
			m, err := c.from.nc.RequestMsg(&nats.Msg{Subject: "peer.request.slow." + c.typ, Header: to(c.to)}, wait)
			if err == nil && (errCode(m) != "" || !bytes.Equal(m.Data, c.want)) {
				err = errors.New(errCode(m) + " " + m.Header.Get(bridge.HeaderError))
			}
			results <- err
		})
	}
	for range calls {
		select {
		case <-arrived:
		case <-time.After(wait):
			close(release)
			wg.Wait()
			t.Fatal("requests never reached the far side")
		}
	}
	subs := b.nats.Server.NumSubscriptions()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		b.stop(t)
	}()
	// Answer only once b's bridge has let go of its two subscriptions: b
	// is stopping, and must still deliver the replies both ways.
	deadline := time.Now().Add(wait)
	for b.nats.Server.NumSubscriptions() > subs-2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // polling a counter that has no event
	}
	close(release)
	wg.Wait()
	<-stopped
	close(results)
	lost := 0
	for err := range results {
		if err != nil {
			t.Logf("run %d: reply lost: %v", run, err)
			lost++
		}
	}
	return lost
}

// stockTimeout is the timeout of the nats CLI's request command.
const stockTimeout = 5 * time.Second

// TestSlowServiceIs504BeforeClientTimeout (issue 23): a request with no
// Peer-Timeout to a service that never answers gets the bridge's 504, with
// a clear text, before the stock `nats request` gives up at 5 s.
func TestSlowServiceIs504BeforeClientTimeout(t *testing.T) {
	a, b := startNode(t, modules.Config{}), startNode(t, modules.Config{})
	a.knows(b)
	if _, err := b.nc.Subscribe("peer.recv.slow", func(*nats.Msg) {}); err != nil { // takes requests, answers none
		t.Fatal(err)
	}
	if err := b.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	m, err := a.nc.RequestMsg(&nats.Msg{Subject: "peer.request.slow", Header: to(b)}, stockTimeout)
	if err != nil {
		t.Fatalf("a request to a service that never answers: %v, want a 504 before the client's %v timeout", err, stockTimeout)
	}
	if errCode(m) != "504" || strings.Contains(m.Header.Get(bridge.HeaderError), "stream") {
		t.Errorf("%q %q, want 504 with a clear text", errCode(m), m.Header.Get(bridge.HeaderError))
	}
}
