package bridge

import (
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
)

func TestRequestPassesHeadersBothWays(t *testing.T) {
	a, b := startNode(t, Config{}), startNode(t, Config{})
	var (
		mu   sync.Mutex // guards seen
		seen nats.Header
	)
	serve(t, b.nc, "peer.recv.service.echo", func(m *nats.Msg) *nats.Msg {
		mu.Lock()
		seen = m.Header
		mu.Unlock()
		return &nats.Msg{Header: nats.Header{"X-Resp": {"pong"}, HeaderPath: {"spoofed"}}, Data: []byte(strings.ToUpper(string(m.Data)))}
	})

	got := request(t, a.nc, "peer.request.service.echo", with(to(b), "X-Req", "ping"), []byte("hello"))

	mu.Lock()
	defer mu.Unlock()
	wantSeen := nats.Header{HeaderFrom: {a.id()}, "X-Req": {"ping"}}
	if !reflect.DeepEqual(seen, wantSeen) {
		t.Errorf("service saw headers %v, want %v", seen, wantSeen)
	}
	want := nats.Header{"X-Resp": {"pong"}, HeaderFrom: {b.id()}, HeaderPath: {"direct"}, HeaderConn: {ConnDialed}}
	if string(got.Data) != "HELLO" || !reflect.DeepEqual(got.Header, want) {
		t.Errorf("reply %q with headers %v, want %q with %v", got.Data, got.Header, "HELLO", want)
	}
}

func TestRequestReportsPathAndConnection(t *testing.T) {
	a, b := startNode(t, Config{}), startNode(t, Config{})
	serve(t, b.nc, "peer.recv.ping", echo)
	tests := []struct {
		name     string
		wantConn string
	}{
		{"first request dials", ConnDialed},
		{"second request reuses", ConnReused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := request(t, a.nc, "peer.request.ping", to(b), nil)

			path, conn, from := m.Header.Get(HeaderPath), m.Header.Get(HeaderConn), m.Header.Get(HeaderFrom)
			if path != "direct" || conn != tt.wantConn || from != b.id() {
				t.Errorf("Peer-Path %q, Peer-Conn %q, Peer-From %q; want direct, %s, %s", path, conn, from, tt.wantConn, b.id())
			}
		})
	}
}

func TestRequestServeMapsTypeToSubject(t *testing.T) {
	a := startNode(t, Config{})
	b := startNode(t, Config{Serve: map[string]string{"service.calculator.add": "svc.calc.add"}})
	serve(t, b.nc, "svc.calc.add", func(m *nats.Msg) *nats.Msg { return &nats.Msg{Data: []byte("3")} })

	m := request(t, a.nc, "peer.request.service.calculator.add", to(b), []byte(`[1,2]`))

	if string(m.Data) != "3" || errCode(m) != "" {
		t.Errorf("reply %q with error code %q, want 3 and none", m.Data, errCode(m))
	}
}

func TestPayloadLimit(t *testing.T) {
	const limit = 64 << 10
	a, b := startNode(t, Config{MaxPayload: limit}), startNode(t, Config{})
	serve(t, b.nc, "peer.recv.blob.request", func(m *nats.Msg) *nats.Msg {
		return &nats.Msg{Data: []byte(strconv.Itoa(len(m.Data)))}
	})
	sub := subscribe(t, b.nc, "peer.recv.blob.send")
	tests := []struct {
		name     string
		verb     string
		size     int
		wantCode string
		wantData string
	}{
		{"request at the limit", "request", limit, "", strconv.Itoa(limit)},
		{"request over the limit", "request", limit + 1, "413", ""},
		{"send at the limit", "send", limit, "", `{"ok":true}`},
		{"send over the limit", "send", limit + 1, "413", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := request(t, a.nc, "peer."+tt.verb+".blob."+tt.verb, to(b), make([]byte, tt.size))

			if errCode(m) != tt.wantCode || string(m.Data) != tt.wantData {
				t.Errorf("reply %q with error code %q (%s), want %q and %q",
					m.Data, errCode(m), m.Header.Get(HeaderError), tt.wantData, tt.wantCode)
			}
		})
	}
	if got := len(next(t, sub).Data); got != limit {
		t.Errorf("b received a message of %d bytes, want %d", got, limit)
	}
}

func TestQueueGroupSharesLoad(t *testing.T) {
	srv := startNATS(t)
	requireShared(t, startNodeOn(t, srv, Config{}), startNodeOn(t, srv, Config{}))
}

// requireShared sends requests through a1 and fails the test unless a1
// and a2, bridges on one NATS, both forwarded some.
func requireShared(t *testing.T, a1, a2 *node) {
	t.Helper()
	b := startNode(t, Config{})
	serve(t, b.nc, "peer.recv.work", echo)
	const n = 40
	for range n {
		if m := request(t, a1.nc, "peer.request.work", to(b), []byte("job")); errCode(m) != "" {
			t.Fatalf("error %s: %s", errCode(m), m.Header.Get(HeaderError))
		}
	}

	s1, s2 := a1.bridge.Stats().Forwarded, a2.bridge.Stats().Forwarded
	if s1 == 0 || s2 == 0 || s1+s2 != n {
		t.Errorf("bridges forwarded %d and %d of %d requests; want both some, %d in all", s1, s2, n, n)
	}
}
