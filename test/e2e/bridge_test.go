// Package e2e_test runs whole peerbridge daemons, composed as 'peerbridge
// run' composes them, each on its own real embedded nats-server, joined by
// real QUIC on loopback, and checks what a NATS user sees.
package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/modules"
)

func TestSendIsDeliveredWithSenderAndHeaders(t *testing.T) {
	a, b := startNode(t, modules.Config{}), startNode(t, modules.Config{})
	a.knows(b)
	got := subscribe(t, b.nc, "peer.recv.chat.message")

	h := with(to(b), "X-Trace", "abc")
	if err := a.nc.PublishMsg(&nats.Msg{Subject: "peer.send.chat.message", Header: h, Data: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	m := next(t, got)
	if string(m.Data) != "hello" {
		t.Errorf("payload %q, want hello", m.Data)
	}
	if from := m.Header.Get(bridge.HeaderFrom); from != a.id() {
		t.Errorf("Peer-From %q, want %q", from, a.id())
	}
	if v := m.Header.Get("X-Trace"); v != "abc" {
		t.Errorf("X-Trace %q, want abc", v)
	}
	if v := m.Header.Get(bridge.HeaderNode); v != "" {
		t.Errorf("Peer-Node %q travelled to the receiver", v)
	}

	// With a reply subject the send is acknowledged once the peer has it.
	ack := request(t, a.nc, "peer.send.chat.message", to(b), []byte("again"))
	mustOK(t, ack)
	if string(ack.Data) != `{"ok":true}` {
		t.Errorf("ack %q", ack.Data)
	}
	if m := next(t, got); string(m.Data) != "again" {
		t.Errorf("second payload %q", m.Data)
	}
}

func TestRequestReplyBothWays(t *testing.T) {
	a, b := startNode(t, modules.Config{}), startNode(t, modules.Config{})
	a.knows(b)
	b.knows(a)
	for _, n := range []*node{a, b} {
		serve(t, n.nc, "peer.recv.echo", func(m *nats.Msg) *nats.Msg {
			h := nats.Header{"X-Answer": {"42"}, "X-Seen-Trace": {m.Header.Get("X-Trace")},
				"X-Seen-Timeout": {m.Header.Get(bridge.HeaderTimeout)}}
			return &nats.Msg{Header: h, Data: append([]byte("echo: "), m.Data...)}
		})
	}
	for _, tt := range []struct {
		name     string
		from, to *node
	}{{"a to b", a, b}, {"b to a", b, a}} {
		t.Run(tt.name, func(t *testing.T) {
			h := with(with(to(tt.to), "X-Trace", "t1"), bridge.HeaderTimeout, "5s")
			r := request(t, tt.from.nc, "peer.request.echo", h, []byte("ping"))
			mustOK(t, r)
			if string(r.Data) != "echo: ping" {
				t.Errorf("reply %q", r.Data)
			}
			for key, want := range map[string]string{
				"X-Answer":        "42",
				"X-Seen-Trace":    "t1",
				"X-Seen-Timeout":  "", // Peer- headers stay with the bridge
				bridge.HeaderFrom: tt.to.id(),
				bridge.HeaderPath: "direct",
			} {
				if got := r.Header.Get(key); got != want {
					t.Errorf("header %s = %q, want %q", key, got, want)
				}
			}
		})
	}
	// a dialled b for the first request; b reused that connection, and so
	// does every later request either way.
	r := request(t, a.nc, "peer.request.echo", to(b), nil)
	if c := r.Header.Get(bridge.HeaderConn); c != bridge.ConnReused {
		t.Errorf("Peer-Conn %q on a later request, want %q", c, bridge.ConnReused)
	}
	if s := a.conn.Stats(); s.Dials != 1 {
		t.Errorf("a dialled %d times, want 1 (stats %+v)", s.Dials, s)
	}
	if s := b.conn.Stats(); s.Dials != 0 {
		t.Errorf("b dialled %d times, want 0: it should reuse a's connection (stats %+v)", s.Dials, s)
	}
}

func TestFanOutToThreePeers(t *testing.T) {
	a := startNode(t, modules.Config{})
	peers := []*node{startNode(t, modules.Config{}), startNode(t, modules.Config{}), startNode(t, modules.Config{})}
	a.knows(peers...)
	var got []<-chan *nats.Msg
	for _, p := range peers {
		got = append(got, subscribe(t, p.nc, "peer.recv.dht_store"))
	}

	ack := request(t, a.nc, "peer.send.dht_store", to(peers...), []byte("key=value"))
	mustOK(t, ack)
	var reply bridge.SendReply
	if err := json.Unmarshal(ack.Data, &reply); err != nil {
		t.Fatalf("ack %q: %v", ack.Data, err)
	}
	if !reply.OK || reply.Sent != 3 || reply.Failed != 0 || len(reply.Results) != 3 {
		t.Fatalf("send reply %+v", reply)
	}
	for i, p := range peers {
		if reply.Results[i].Node != p.id() || !reply.Results[i].OK {
			t.Errorf("result %d: %+v, want ok from %s", i, reply.Results[i], p.id())
		}
		if m := next(t, got[i]); string(m.Data) != "key=value" || m.Header.Get(bridge.HeaderFrom) != a.id() {
			t.Errorf("peer %d got %q from %q", i, m.Data, m.Header.Get(bridge.HeaderFrom))
		}
	}

	// One unreachable peer among them is reported, the others still get it.
	h := to(peers[0])
	h.Add(bridge.HeaderNode, identityID(t))
	h = with(h, bridge.HeaderTimeout, "2s")
	ack = request(t, a.nc, "peer.send.dht_store", h, []byte("partial"))
	if err := json.Unmarshal(ack.Data, &reply); err != nil {
		t.Fatalf("ack %q: %v", ack.Data, err)
	}
	if reply.OK || reply.Sent != 1 || reply.Failed != 1 || reply.Results[1].Code != 404 {
		t.Errorf("partial send reply %+v, want one sent and one 404", reply)
	}
	if m := next(t, got[0]); string(m.Data) != "partial" {
		t.Errorf("peer 0 got %q", m.Data)
	}
}

// identityID is the node ID of a fresh key nobody runs.
func identityID(t *testing.T) string {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return id.NodeID().String()
}

func TestErrorCodes(t *testing.T) {
	a := startNode(t, modules.Config{MaxPayload: 4096})
	b := startNode(t, modules.Config{})
	a.knows(b)
	subscribe(t, b.nc, "peer.recv.slow") // takes requests, never answers
	// Connect once, so the short timeouts below time the request, not the dial.
	echo(t, b.nc, "peer.recv.echo")
	mustOK(t, request(t, a.nc, "peer.request.echo", to(b), nil))

	tests := []struct {
		name    string
		subject string
		h       nats.Header
		size    int
		want    string
	}{
		{"no target", "peer.request.echo", nats.Header{"X-A": {"1"}}, 0, "400"},
		{"malformed node ID", "peer.request.echo", nats.Header{bridge.HeaderNode: {"nobody"}}, 0, "400"},
		{"malformed endpoint", "peer.request.echo", nats.Header{bridge.HeaderEndpoint: {"no-port"}}, 0, "400"},
		{"malformed timeout", "peer.request.echo", with(to(b), bridge.HeaderTimeout, "soon"), 0, "400"},
		{"reserved type", "peer.request.$pb.gw.lookup", to(b), 0, "400"},
		{"send without target", "peer.send.echo", nats.Header{}, 0, "400"},
		{"unknown node", "peer.request.echo", nats.Header{bridge.HeaderNode: {identityID(t)}}, 0, "404"},
		{"send to unknown node", "peer.send.echo", nats.Header{bridge.HeaderNode: {identityID(t)}}, 0, "404"},
		{"payload over the limit", "peer.request.echo", to(b), 4097, "413"},
		{"send over the limit", "peer.send.echo", to(b), 4097, "413"},
		{"unreachable peer", "peer.request.echo", with(nats.Header{bridge.HeaderEndpoint: {deadEndpoint(t)}}, bridge.HeaderTimeout, "8s"), 0, "503"},
		{"wrong key at the endpoint", "peer.request.echo", with(nats.Header{bridge.HeaderEndpoint: {b.endpoint()}}, bridge.HeaderNode, identityID(t)), 0, "503"},
		{"nothing answers remotely", "peer.request.nobody", to(b), 0, "503"},
		{"remote timeout", "peer.request.slow", with(to(b), bridge.HeaderTimeout, "300ms"), 0, "504"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := request(t, a.nc, tt.subject, tt.h, make([]byte, tt.size))
			code, text := errCode(m), m.Header.Get(bridge.HeaderError)
			if code != tt.want || text == "" || len(m.Data) != 0 {
				t.Errorf("got %q %q with %d bytes of payload, want %s with a text and no payload", code, text, len(m.Data), tt.want)
			}
		})
	}
}

func TestPayloadJustUnderAndOverTheLimit(t *testing.T) {
	const limit = 64 << 10
	a, b := startNode(t, modules.Config{MaxPayload: limit}), startNode(t, modules.Config{MaxPayload: limit})
	a.knows(b)
	echo(t, b.nc, "peer.recv.blob")
	at := bytes.Repeat([]byte{0xa5}, limit)
	r := request(t, a.nc, "peer.request.blob", to(b), at)
	mustOK(t, r)
	if !bytes.Equal(r.Data, at) {
		t.Errorf("reply of %d bytes differs from the %d bytes sent", len(r.Data), len(at))
	}
	over := append(at, 0)
	if r := request(t, a.nc, "peer.request.blob", to(b), over); errCode(r) != "413" {
		t.Errorf("one byte over the limit: code %q, want 413", errCode(r))
	}
}

func TestServeMapsTypeToAPlainNATSService(t *testing.T) {
	b := startNode(t, modules.Config{Serve: map[string]string{"service.calculator.add": "svc.calc.add"}})
	a := startNode(t, modules.Config{})
	a.knows(b)

	// A NATS micro service that knows nothing of peerbridge.
	svc, err := micro.AddService(b.nc, micro.Config{Name: "calc", Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Stop() })
	err = svc.AddEndpoint("add", micro.HandlerFunc(func(req micro.Request) {
		var nums []int
		if err := json.Unmarshal(req.Data(), &nums); err != nil {
			req.Error("422", "want a JSON array of numbers", nil)
			return
		}
		sum := 0
		for _, n := range nums {
			sum += n
		}
		req.Respond([]byte(itoa(sum)))
	}), micro.WithEndpointSubject("svc.calc.add"))
	if err != nil {
		t.Fatal(err)
	}

	r := request(t, a.nc, "peer.request.service.calculator.add", to(b), []byte("[1,2,39]"))
	mustOK(t, r)
	if string(r.Data) != "42" {
		t.Errorf("sum %q, want 42", r.Data)
	}
	// The service's own error passes through with its code.
	r = request(t, a.nc, "peer.request.service.calculator.add", to(b), []byte("one and two"))
	if errCode(r) != "422" || r.Header.Get(bridge.HeaderError) != "want a JSON array of numbers" {
		t.Errorf("service error %q %q, want 422", errCode(r), r.Header.Get(bridge.HeaderError))
	}
}

func TestQueueGroupSharesLoadAcrossBridges(t *testing.T) {
	b := startNode(t, modules.Config{})
	a1 := startNode(t, modules.Config{})
	// a2 joins a1's NATS as an external one: two bridges, one NATS.
	a2 := startNode(t, modules.Config{NATS: modules.NATSConfig{URL: a1.nats.ClientURL}})
	a1.knows(b)
	a2.knows(b)

	var mu sync.Mutex
	seen := map[string]int{}
	serve(t, b.nc, "peer.recv.work", func(m *nats.Msg) *nats.Msg {
		mu.Lock()
		seen[m.Header.Get(bridge.HeaderFrom)]++
		mu.Unlock()
		return &nats.Msg{Data: []byte("done")}
	})
	const n = 60
	for range n {
		mustOK(t, request(t, a1.nc, "peer.request.work", to(b), nil))
	}
	mu.Lock()
	defer mu.Unlock()
	if seen[a1.id()]+seen[a2.id()] != n || seen[a1.id()] == 0 || seen[a2.id()] == 0 {
		t.Errorf("requests by bridge: a1 %d, a2 %d; want all %d shared by both", seen[a1.id()], seen[a2.id()], n)
	}
}

func TestExternalNATSReconnectKeepsSubscriptions(t *testing.T) {
	port := freePort(t)
	ext := runNATS(t, port)
	a := startNode(t, modules.Config{NATS: modules.NATSConfig{URL: natsURL(port)}})
	b := startNode(t, modules.Config{})
	a.knows(b)
	echo(t, b.nc, "peer.recv.echo")

	reconnected := make(chan struct{}, 16)
	client := dial(t, natsURL(port), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} }))
	mustOK(t, request(t, client, "peer.request.echo", to(b), []byte("before")))

	ext.Shutdown()
	ext.WaitForShutdown()
	runNATS(t, port)
	select {
	case <-reconnected:
	case <-time.After(wait):
		t.Fatal("test client did not reconnect")
	}
	// The bridge reconnects on its own schedule; its subscriptions come back
	// with it. Until then a request finds no responders.
	deadline := time.Now().Add(wait)
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		r, err := client.RequestMsgWithContext(ctx, &nats.Msg{Subject: "peer.request.echo", Header: to(b), Data: []byte("after")})
		cancel()
		if err == nil {
			mustOK(t, r)
			if string(r.Data) != "after" {
				t.Errorf("reply %q", r.Data)
			}
			a.stop(t) // while its NATS is up, so the stop drains
			return
		}
		if time.Now().After(deadline) || i > 200 {
			t.Fatalf("no answer after the reconnect within %v: %v", wait, err)
		}
		select { // back off before the next try, bounded by the deadline
		case <-time.After(50 * time.Millisecond):
		case <-t.Context().Done():
			return
		}
	}
}

func TestShutdownLetsInFlightRequestsFinish(t *testing.T) {
	a, b := startNode(t, modules.Config{}), startNode(t, modules.Config{})
	a.knows(b)
	arrived := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	serve(t, b.nc, "peer.recv.slow", func(m *nats.Msg) *nats.Msg {
		once.Do(func() { close(arrived) })
		<-release
		return &nats.Msg{Data: []byte("finished")}
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})

	answer := make(chan *nats.Msg, 1)
	errs := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		m, err := a.nc.RequestMsgWithContext(ctx, &nats.Msg{Subject: "peer.request.slow", Header: to(b)})
		if err != nil {
			errs <- err
			return
		}
		answer <- m
	}()
	select {
	case <-arrived:
	case <-time.After(wait):
		t.Fatal("request never reached the far side")
	}

	subs := a.nats.Server.NumSubscriptions()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		a.stop(t)
	}()
	// Release the answer only once the bridge has let go of its two
	// subscriptions: it is stopping, and must still finish the request.
	deadline := time.Now().Add(wait)
	for a.nats.Server.NumSubscriptions() > subs-2 {
		if time.Now().After(deadline) {
			t.Fatal("bridge did not unsubscribe on stop")
		}
		time.Sleep(5 * time.Millisecond) // polling a counter that has no event
	}
	close(release)
	select {
	case m := <-answer:
		mustOK(t, m)
		if string(m.Data) != "finished" {
			t.Errorf("reply %q", m.Data)
		}
	case err := <-errs:
		t.Fatalf("in-flight request failed during shutdown: %v", err)
	case <-time.After(wait):
		t.Fatal("no answer during shutdown")
	}
	select {
	case <-stopped:
	case <-time.After(wait):
		t.Fatal("daemon did not stop")
	}
}

func TestStopWhileNATSIsDown(t *testing.T) {
	port := freePort(t)
	ext := runNATS(t, port)
	// A grace period longer than the stop's own deadline: a stop that waited
	// for a drain no server can confirm would miss that deadline.
	a := startNode(t, modules.Config{NATS: modules.NATSConfig{URL: natsURL(port)}, Grace: time.Minute})
	ext.Shutdown()
	ext.WaitForShutdown()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	if err := a.app.Stop(ctx); err != nil {
		t.Fatalf("stopping with NATS down: %v", err)
	}
}
