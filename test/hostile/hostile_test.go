package hostile

import (
	"context"
	"encoding/binary"
	"maps"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/codec"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// testTimeout bounds every wait of an attack.
const testTimeout = 15 * time.Second

// testCtx is the test's context with testTimeout.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newIdentity returns a freshly generated key: all an attacker needs.
func newIdentity(t testing.TB) *identity.Identity {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// startConnector starts a connector on ip (":0" port) with handler h, closed
// at the end of the test.
func startConnector(t testing.TB, ip string, cfg connector.Config, h connector.Handler) *connector.Connector {
	t.Helper()
	cfg.ListenAddr = net.JoinHostPort(ip, "0")
	return connectortest.Start(t, cfg, h)
}

// targetOf names c by node ID and address.
func targetOf(c *connector.Connector) connector.Target {
	return connector.Target{NodeID: c.NodeID(), Endpoint: c.Addr().String()}
}

// attacker dials a victim from a UDP socket of its own, with a fresh key per
// connection unless told otherwise, and speaks raw QUIC.
type attacker struct {
	tr  *quic.Transport
	udp *net.UDPConn

	mu    sync.Mutex   // guards conns
	conns []*quic.Conn // every connection dialled, for close
}

// newAttacker binds an attacker's socket on ip (a loopback address: Linux
// answers on all of 127.0.0.0/8). It is closed at the end of the test.
func newAttacker(t testing.TB, ip string) *attacker {
	t.Helper()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	a := &attacker{tr: &quic.Transport{Conn: udp}, udp: udp}
	t.Cleanup(a.close)
	return a
}

// close closes every connection of the attacker, telling the victim, and
// its socket; it may be called more than once.
func (a *attacker) close() {
	a.mu.Lock()
	for _, qc := range a.conns {
		qc.CloseWithError(0, "")
	}
	a.conns = nil
	a.mu.Unlock()
	a.tr.Close()
	a.udp.Close()
}

// attackerQUIC keeps an attacker's connections open as long as it likes:
// keep-alives every second, the victim's idle timeout notwithstanding.
var attackerQUIC = quic.Config{
	HandshakeIdleTimeout: 5 * time.Second,
	MaxIdleTimeout:       time.Minute,
	KeepAlivePeriod:      time.Second,
}

// dial connects to victim with a freshly generated key.
func (a *attacker) dial(ctx context.Context, t testing.TB, victim *connector.Connector) (*quic.Conn, error) {
	return a.dialAs(ctx, newIdentity(t), victim)
}

// dialAs connects to victim as id.
func (a *attacker) dialAs(ctx context.Context, id *identity.Identity, victim *connector.Connector) (*quic.Conn, error) {
	conf := attackerQUIC
	qc, err := a.tr.Dial(ctx, net.UDPAddrFromAddrPort(victim.Addr()), id.ClientTLS(victim.NodeID(), nil), &conf)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.conns = append(a.conns, qc)
	return qc, nil
}

// encode returns the wire form of f, length prefix included.
func encode(t testing.TB, f *codec.Frame) []byte {
	t.Helper()
	b, err := codec.AppendFrame(nil, f, codec.DefaultMaxPayload)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// partialFrame returns the start of a frame whose length prefix announces
// size body bytes, of which it holds only the version byte and then have
// zero bytes.
func partialFrame(size uint32, have int) []byte {
	b := binary.BigEndian.AppendUint32(nil, size)
	b = append(b, codec.Version)
	return append(b, make([]byte, have)...)
}

// waitFor polls cond until it holds, failing the test after testTimeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", testTimeout, what)
		}
		time.Sleep(10 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

// heapInuse returns the heap in use after a collection.
func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// rss returns the process's resident set size in bytes, or 0 where
// /proc/self/status cannot be read.
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// waitGoroutines waits until at most limit goroutines run, and fails the
// test with the goroutines that are left otherwise.
func waitGoroutines(t testing.TB, limit int) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for runtime.NumGoroutine() > limit {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after %v, want at most %d:\n%s", runtime.NumGoroutine(), testTimeout, limit, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

// mib formats a byte count in MiB.
func mib(n uint64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB" }

// readAnswer reads the one frame the victim answers on st, waiting
// testTimeout at most.
func readAnswer(st *quic.Stream) (codec.Frame, error) {
	st.SetReadDeadline(time.Now().Add(testTimeout))
	var f codec.Frame
	err := codec.NewReaderSize(st, codec.DefaultMaxPayload, 512).ReadFrame(&f)
	return f, err
}

// answers collects what the victim answered on many streams, by code (0 for
// a stream that failed before any answer).
type answers struct {
	mu    sync.Mutex // guards codes
	codes map[int]int
	wg    sync.WaitGroup
}

// await reads st's answer on a goroutine of its own; wait waits for them.
func (a *answers) await(st *quic.Stream) {
	a.wg.Go(func() {
		f, err := readAnswer(st)
		code := f.Code
		if err != nil {
			code = 0
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.codes == nil {
			a.codes = make(map[int]int)
		}
		a.codes[code]++
	})
}

// wait waits for every answer and returns the count by code.
func (a *answers) wait() map[int]int {
	a.wg.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.codes)
}

// echo answers requests with their payload.
var echo = connector.HandlerFunc(func(ctx context.Context, m *connector.Message) (*connector.Response, error) {
	return &connector.Response{Payload: m.Payload}, nil
})
