package natlab_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/test/natlab"
)

const (
	reflectorPort = 3478
	// probeWait is how long one probe waits for its answer.
	probeWait = 250 * time.Millisecond
	// probeTries bounds the probes sent to get one answer.
	probeTries = 12
	// silence is how long a packet that must not arrive is waited for.
	silence = 300 * time.Millisecond
	// maxReflected bounds the datagrams one reflector socket answers.
	maxReflected = 10000
)

// reflector answers every datagram with the source address and port it came
// from, as text, on port reflectorPort of each of its addresses.
type reflector struct {
	host  *natlab.Host
	addrs []netip.AddrPort
}

// startReflector runs a reflector on host until the test ends.
func startReflector(t *testing.T, host *natlab.Host) *reflector {
	t.Helper()
	r := &reflector{host: host}
	var conns []*net.UDPConn
	var wg sync.WaitGroup
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	})
	for _, a := range host.Addrs() {
		ap := netip.AddrPortFrom(a, reflectorPort)
		conn, err := host.ListenUDP(ap)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		r.addrs = append(r.addrs, ap)
		wg.Go(func() { reflect(conn) })
	}
	return r
}

// reflect is one reflector socket's loop; it ends when conn is closed, after
// maxReflected datagrams, or after a minute.
func reflect(conn *net.UDPConn) {
	defer conn.Close()
	if err := conn.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		return
	}
	buf := make([]byte, 1500)
	for range maxReflected {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		nonce, ok := bytes.CutPrefix(buf[:n], []byte("probe "))
		if !ok {
			continue
		}
		answer := fmt.Appendf(nil, "%s %s", nonce, from)
		if _, err := conn.WriteToUDPAddrPort(answer, from); err != nil {
			return
		}
	}
}

// observe asks the reflector at dst which address and port conn's datagrams
// arrive from.
func observe(t *testing.T, conn *net.UDPConn, dst netip.AddrPort) netip.AddrPort {
	t.Helper()
	got, err := tryObserve(conn, dst, probeTries)
	if err != nil {
		t.Fatalf("observe via %s: %v", dst, err)
	}
	return got
}

// tryObserve sends up to tries probes to dst and returns the first answer to
// any of them. Each call's probes carry a fresh nonce, so late answers to an
// earlier call are ignored.
func tryObserve(conn *net.UDPConn, dst netip.AddrPort, tries int) (netip.AddrPort, error) {
	nonce := strconv.FormatInt(time.Now().UnixNano(), 36)
	buf := make([]byte, 1500)
	for range tries {
		if _, err := conn.WriteToUDPAddrPort([]byte("probe "+nonce), dst); err != nil {
			return netip.AddrPort{}, err
		}
		deadline := time.Now().Add(probeWait)
		if err := conn.SetReadDeadline(deadline); err != nil {
			return netip.AddrPort{}, err
		}
		for time.Now().Before(deadline) {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				return netip.AddrPort{}, err
			}
			seen, ok := strings.CutPrefix(string(buf[:n]), nonce+" ")
			if from != dst || !ok {
				continue
			}
			return netip.ParseAddrPort(seen)
		}
	}
	return netip.AddrPort{}, fmt.Errorf("no answer to %d probes", tries)
}

// knock sends unsolicited datagrams from a fresh socket bound to from to the
// endpoint to, and reports whether recv got one within about wait.
func knock(t *testing.T, sender *natlab.Host, from netip.Addr, to netip.AddrPort, recv *net.UDPConn, wait time.Duration) bool {
	t.Helper()
	conn, err := sender.ListenUDP(netip.AddrPortFrom(from, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	payload := []byte("knock " + conn.LocalAddr().String())
	buf := make([]byte, 1500)
	end := time.Now().Add(wait)
	for i := 0; i < 50 && time.Now().Before(end); i++ {
		if _, err := conn.WriteToUDPAddrPort(payload, to); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(100 * time.Millisecond)
		if deadline.After(end) {
			deadline = end
		}
		if err := recv.SetReadDeadline(deadline); err != nil {
			t.Fatal(err)
		}
		for {
			n, _, err := recv.ReadFromUDPAddrPort(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(buf[:n], payload) {
				return true
			}
		}
	}
	return false
}

// listen opens a UDP socket on host's first address that is closed at the
// end of the test.
func listen(t *testing.T, host *natlab.Host) *net.UDPConn {
	t.Helper()
	conn, err := host.ListenUDP(netip.AddrPortFrom(host.Addrs()[0], 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestNATKinds(t *testing.T) {
	tests := []struct {
		kind natlab.Kind
		// sameMapping: both destinations see the same public endpoint.
		sameMapping bool
		// open: strangers reach the mapped endpoint.
		open bool
	}{
		{natlab.None, true, true},
		{natlab.FullCone, true, true},
		{natlab.PortRestricted, true, false},
		{natlab.Symmetric, false, false},
		{natlab.DockerHost, true, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			lab := natlab.New(t)
			server := lab.AddPublicHost("server", 2)
			refl := startReflector(t, server)
			nat := lab.AddNAT("nat", tt.kind)
			client := nat.AddHost("client")
			conn := listen(t, client)
			local := netip.MustParseAddrPort(conn.LocalAddr().String())

			seen1 := observe(t, conn, refl.addrs[0])
			seen2 := observe(t, conn, refl.addrs[1])
			t.Logf("%s: local %s, seen by %s as %s, by %s as %s",
				tt.kind, local, refl.addrs[0], seen1, refl.addrs[1], seen2)

			checkMapping(t, nat, local, seen1, seen2, tt.sameMapping)

			// Strangers: another address and port, then the same address as
			// the contacted reflector but another port.
			ip1, ip2 := server.Addrs()[0], server.Addrs()[1]
			for _, from := range []netip.Addr{ip2, ip1} {
				wait := silence
				if tt.open {
					wait = 3 * time.Second
				}
				got := knock(t, server, from, seen1, conn, wait)
				if got != tt.open {
					t.Errorf("%s: datagram from stranger %s:* to mapped %s arrived=%v, want %v",
						tt.kind, from, seen1, got, tt.open)
				}
			}
		})
	}
}

// checkMapping checks the public endpoints seen by two destinations.
func checkMapping(t *testing.T, nat *natlab.NAT, local, seen1, seen2 netip.AddrPort, same bool) {
	t.Helper()
	wantAddr := nat.PublicAddr()
	if nat.Kind() == natlab.None {
		wantAddr = local.Addr()
		if seen1 != local || seen2 != local {
			t.Errorf("none: seen as %s and %s, want own address %s", seen1, seen2, local)
		}
	}
	if seen1.Addr() != wantAddr || seen2.Addr() != wantAddr {
		t.Errorf("%s: seen from %s and %s, want %s", nat.Kind(), seen1.Addr(), seen2.Addr(), wantAddr)
	}
	if same && seen1.Port() != seen2.Port() {
		t.Errorf("%s: mapping not endpoint-independent: ports %d and %d", nat.Kind(), seen1.Port(), seen2.Port())
	}
	if !same && seen1.Port() == seen2.Port() {
		t.Errorf("%s: mapping not endpoint-dependent: port %d for both", nat.Kind(), seen1.Port())
	}
	if nat.Kind() == natlab.FullCone && seen1.Port() != local.Port() {
		t.Errorf("full-cone: port not preserved: local %d, public %d", local.Port(), seen1.Port())
	}
}

// TestFullConeClosedUntilUsed checks that a full-cone NAT opens a port only
// once the LAN host has sent from it (endpoint-independent filtering, not a
// blanket port forward).
func TestFullConeClosedUntilUsed(t *testing.T) {
	lab := natlab.New(t)
	server := lab.AddPublicHost("server", 2)
	refl := startReflector(t, server)
	nat := lab.AddNAT("cone", natlab.FullCone)
	conn := listen(t, nat.AddHost("client"))
	local := netip.MustParseAddrPort(conn.LocalAddr().String())
	public := netip.AddrPortFrom(nat.PublicAddr(), local.Port())
	if knock(t, server, server.Addrs()[1], public, conn, silence) {
		t.Fatalf("datagram to %s reached the host before it sent anything", public)
	}
	if got := observe(t, conn, refl.addrs[0]); got != public {
		t.Fatalf("seen as %s, want %s", got, public)
	}
	if !knock(t, server, server.Addrs()[1], public, conn, 3*time.Second) {
		t.Fatalf("datagram to %s did not reach the host after it sent", public)
	}
}

func TestFullConeAllowsOneHost(t *testing.T) {
	rec := &fatalRecorder{TB: t}
	lab := natlab.New(rec)
	nat := lab.AddNAT("cone", natlab.FullCone)
	nat.AddHost("a")
	rec.expect.Store(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		nat.AddHost("b") // must call Fatalf, which ends this goroutine
	}()
	<-done
	if msg, _ := rec.msg.Load().(string); !strings.Contains(msg, "one LAN host") {
		t.Fatalf("second host on a full-cone NAT: got fatal message %q", msg)
	}
}

// fatalRecorder is a testing.TB whose Fatalf, once expected, records the
// message and ends the calling goroutine without failing the test.
type fatalRecorder struct {
	testing.TB
	expect atomic.Bool
	msg    atomic.Value
}

// Fatalf records the message when a fatal error is expected and fails the
// test otherwise.
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.TB.Helper()
	if !r.expect.Load() {
		r.TB.Fatalf(format, args...)
	}
	r.msg.Store(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func TestMultipleHostsBehindNAT(t *testing.T) {
	lab := natlab.New(t)
	server := lab.AddPublicHost("server", 2)
	refl := startReflector(t, server)
	nat := lab.AddNAT("nat", natlab.PortRestricted)
	a, b := nat.AddHost("a"), nat.AddHost("b")
	if a.Addrs()[0] == b.Addrs()[0] {
		t.Fatalf("hosts share address %s", a.Addrs()[0])
	}
	for _, h := range []*natlab.Host{a, b} {
		got := observe(t, listen(t, h), refl.addrs[0])
		if got.Addr() != nat.PublicAddr() {
			t.Errorf("%s seen from %s, want %s", h.Name(), got.Addr(), nat.PublicAddr())
		}
	}
	// The LAN is a real segment: a reaches b directly.
	bConn := listen(t, b)
	bAddr := netip.MustParseAddrPort(bConn.LocalAddr().String())
	if !knock(t, a, a.Addrs()[0], bAddr, bConn, 3*time.Second) {
		t.Error("a could not reach b on their LAN")
	}
}

func TestLoss(t *testing.T) {
	lab := natlab.New(t)
	server := lab.AddPublicHost("server", 1)
	refl := startReflector(t, server)
	nat := lab.AddNAT("nat", natlab.PortRestricted)
	client := nat.AddHost("client")
	conn := listen(t, client)
	observe(t, conn, refl.addrs[0])

	// A host's lost packets are lost on the wire: sending does not fail.
	if err := client.SetLoss(100); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.WriteToUDPAddrPort([]byte("lost"), refl.addrs[0]); err != nil {
		t.Fatalf("sending from a host with 100%% loss: %v", err)
	}
	if got, err := tryObserve(conn, refl.addrs[0], 2); err == nil {
		t.Fatalf("a probe from a host with 100%% loss was answered, seen as %s", got)
	}
	if err := client.SetLoss(0); err != nil {
		t.Fatal(err)
	}
	observe(t, conn, refl.addrs[0])

	if err := nat.SetLoss(100); err != nil {
		t.Fatal(err)
	}
	if got, err := tryObserve(conn, refl.addrs[0], 2); err == nil {
		t.Fatalf("router with 100%% loss forwarded a probe, seen as %s", got)
	}
	if err := nat.SetLoss(0); err != nil {
		t.Fatal(err)
	}
	observe(t, conn, refl.addrs[0])

	if err := server.SetLoss(100); err != nil {
		t.Fatal(err)
	}
	if got, err := tryObserve(conn, refl.addrs[0], 2); err == nil {
		t.Fatalf("host with 100%% loss answered a probe, seen as %s", got)
	}
	if err := server.SetLoss(0); err != nil {
		t.Fatal(err)
	}
	observe(t, conn, refl.addrs[0])

	if err := nat.SetLoss(101); err == nil {
		t.Error("SetLoss(101) succeeded")
	}
	if err := lab.AddNAT("open", natlab.None).SetLoss(10); err == nil {
		t.Error("SetLoss on a none NAT succeeded")
	}
}

func TestRate(t *testing.T) {
	if _, err := exec.LookPath("tc"); err != nil {
		t.Skip("natlab: skipping: tc not on PATH")
	}
	lab := natlab.New(t)
	server := lab.AddPublicHost("server", 1)
	nat := lab.AddNAT("nat", natlab.PortRestricted)
	client := nat.AddHost("client")
	const rate = 1_000_000 // bits per second
	if err := nat.SetRate(rate); err != nil {
		t.Fatal(err)
	}
	sink := listen(t, server)
	src := listen(t, client)
	to := netip.MustParseAddrPort(sink.LocalAddr().String())

	// Blast for sendFor; the shaper may deliver at most rate*window+burst.
	const sendFor = 500 * time.Millisecond
	received := make(chan int, 1)
	go func() { received <- drain(sink, sendFor+500*time.Millisecond) }()
	payload := make([]byte, 1000)
	sent := 0
	for end := time.Now().Add(sendFor); time.Now().Before(end) && sent < 100_000; sent++ {
		if _, err := src.WriteToUDPAddrPort(payload, to); err != nil {
			// A full tbf queue may push back; that is shaping too.
			continue
		}
	}
	got := <-received
	const limit = rate/8 + 64*1024 // one second's worth plus generous burst
	t.Logf("sent %d bytes in %s, received %d", sent*len(payload), sendFor, got)
	if got == 0 || got > limit {
		t.Errorf("received %d bytes through a %d bit/s shaper, want 1..%d", got, rate, limit)
	}
	if sent*len(payload) <= limit {
		t.Skipf("sender too slow to test shaping (%d bytes)", sent*len(payload))
	}
	if err := nat.SetRate(0); err != nil {
		t.Fatal(err)
	}
	if err := nat.SetRate(0); err != nil {
		t.Errorf("removing an absent rate limit: %v", err)
	}
}

// drain counts the bytes conn receives during d.
func drain(conn *net.UDPConn, d time.Duration) int {
	total := 0
	buf := make([]byte, 2000)
	if err := conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		return 0
	}
	for range 1_000_000 {
		n, _, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			break
		}
		total += n
	}
	return total
}

func TestCommand(t *testing.T) {
	lab := natlab.New(t)
	nat := lab.AddNAT("nat", natlab.Symmetric)
	h := nat.AddHost("client")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := h.Command(ctx, "ip", "-4", "-o", "addr", "show", "dev", "eth0").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if want := h.Addrs()[0].String() + "/24"; !strings.Contains(string(out), want) {
		t.Errorf("ip addr in %s = %q, want it to contain %s", h.Name(), out, want)
	}
	out, err = h.Command(ctx, "ip", "-4", "route", "show", "default").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.Contains(string(out), "via 198.19.") {
		t.Errorf("default route in %s = %q, want via the router", h.Name(), out)
	}
}

// TestListenUDPRestoresThreads checks that opening sockets in namespaces
// leaves every thread of the process in its original namespace.
func TestListenUDPRestoresThreads(t *testing.T) {
	lab := natlab.New(t)
	h := lab.AddPublicHost("h", 1)
	orig, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			conn, err := h.ListenUDP(netip.AddrPort{})
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
		})
	}
	wg.Wait()
	tasks, err := filepath.Glob("/proc/self/task/*/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		ns, err := os.Readlink(task)
		if err != nil {
			continue // the thread exited meanwhile
		}
		if ns != orig {
			t.Errorf("%s is in %s, want %s", task, ns, orig)
		}
	}
}

func TestTeardownRemovesNamespaces(t *testing.T) {
	var id string
	var names []string
	t.Run("lab", func(t *testing.T) {
		lab := natlab.New(t)
		id = lab.ID()
		pub := lab.AddPublicHost("pub", 2)
		nat := lab.AddNAT("nat", natlab.Symmetric)
		client := nat.AddHost("client")
		names = []string{pub.Name(), nat.Name(), client.Name()}
		listed := netnsList(t)
		for _, n := range names {
			if !strings.Contains(listed, n) {
				t.Errorf("namespace %s not in ip netns list:\n%s", n, listed)
			}
		}
	})
	if id == "" {
		t.Skip("lab unsupported here")
	}
	listed := netnsList(t)
	if strings.Contains(listed, id) {
		t.Errorf("namespaces of lab %s left after teardown:\n%s", id, listed)
	}
}

// netnsList returns the output of "ip netns list".
func netnsList(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	return string(out)
}

// TestNewReapsLabsOfDeadProcesses: namespaces left by a test binary that was
// killed before its cleanup are removed by the next lab.
func TestNewReapsLabsOfDeadProcesses(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("natlab: skipping: needs root")
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skipf("natlab: skipping: cannot run true: %v", err)
	}
	stale := fmt.Sprintf("pbl%dx0123abcd-internet", dead.Process.Pid)
	if out, err := exec.Command("ip", "netns", "add", stale).CombinedOutput(); err != nil {
		t.Skipf("natlab: skipping: ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", stale).Run() })

	natlab.New(t)
	if listed := netnsList(t); strings.Contains(listed, stale) {
		t.Errorf("namespace %s of dead process %d not reaped:\n%s", stale, dead.Process.Pid, listed)
	}
}
