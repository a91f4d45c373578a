package portmap

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// fakeRouter answers NAT-PMP (pcp false) or PCP (pcp true) on loopback.
// Every mapping request it answers is sent on reqs.
type fakeRouter struct {
	conn *net.UDPConn
	pcp  bool
	// result is the result code it answers with.
	result uint16
	reqs   chan fakeReq
	done   chan struct{}
}

type fakeReq struct {
	internal uint16
	lifetime uint32
}

var fakeExternal = netip.MustParseAddr("198.18.0.77")

func newFakeRouter(t *testing.T, pcp bool, result uint16) *fakeRouter {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &fakeRouter{conn: conn, pcp: pcp, result: result, reqs: make(chan fakeReq, 64), done: make(chan struct{})}
	go r.serve()
	t.Cleanup(func() { conn.Close(); <-r.done })
	return r
}

func (r *fakeRouter) serve() {
	defer close(r.done)
	buf := make([]byte, maxReply)
	for {
		n, from, err := r.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if out := r.answer(buf[:n]); out != nil {
			r.conn.WriteToUDPAddrPort(out, from)
		}
	}
}

// record passes q on, dropping it if the test is not reading.
func (r *fakeRouter) record(q fakeReq) {
	select {
	case r.reqs <- q:
	default:
	}
}

func (r *fakeRouter) answer(b []byte) []byte {
	switch {
	case len(b) == 2 && b[0] == 0 && !r.pcp:
		out := []byte{0, 128, 0, byte(r.result), 0, 0, 0, 1}
		return append(out, fakeExternal.AsSlice()...)
	case len(b) == 12 && b[0] == 0 && !r.pcp:
		in, life := binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint32(b[8:])
		r.record(fakeReq{in, life})
		out := []byte{0, 129, 0, byte(r.result), 0, 0, 0, 1}
		out = binary.BigEndian.AppendUint16(out, in)
		out = binary.BigEndian.AppendUint16(out, in+1)
		return binary.BigEndian.AppendUint32(out, life)
	case b[0] == 2 && !r.pcp:
		return []byte{0, 128 | b[1], 0, pmpUnsupportedVersion, 0, 0, 0, 1}
	case b[0] == 2 && len(b) == pcpHeaderLen+pcpMapLen:
		in, life := binary.BigEndian.Uint16(b[40:]), binary.BigEndian.Uint32(b[4:])
		r.record(fakeReq{in, life})
		return pcpMapReply(uint8(r.result), [NonceLen]byte(b[24:36]), in, in+1, fakeExternal)
	}
	return nil
}

// testConfig points a mapper at r: its NAT-PMP/PCP port goes to r, and
// UPnP's to a closed port.
func (r *fakeRouter) config() Config {
	closed, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	closedAddr := closed.LocalAddr().String()
	closed.Close()
	return Config{
		Port:    4500,
		Gateway: func() (netip.Addr, error) { return netip.MustParseAddr("127.0.0.1"), nil },
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			to := closedAddr
			if _, port, _ := net.SplitHostPort(addr); port == strconv.Itoa(Port) {
				to = r.conn.LocalAddr().String()
			}
			return (&net.Dialer{}).DialContext(ctx, network, to)
		},
		Timeout: time.Second,
	}
}

func nextReq(t *testing.T, r *fakeRouter) fakeReq {
	t.Helper()
	select {
	case q := <-r.reqs:
		return q
	case <-time.After(5 * time.Second):
		t.Fatal("no mapping request")
		return fakeReq{}
	}
}

// TestMapperHoldsRenewsDeletes maps with each protocol, sees it renewed,
// and deleted on Close.
func TestMapperHoldsRenewsDeletes(t *testing.T) {
	for _, tc := range []struct {
		pcp  bool
		want Protocol
	}{{false, NATPMP}, {true, PCP}} {
		t.Run(string(tc.want), func(t *testing.T) {
			r := newFakeRouter(t, tc.pcp, 0)
			cfg := r.config()
			cfg.RenewEvery = 10 * time.Millisecond
			held := make(chan Mapping, 8)
			cfg.OnChange = func(m Mapping, ok bool) {
				if ok {
					held <- m
				}
			}
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			m.Start()
			defer m.Close()
			for i := range 3 {
				if q := nextReq(t, r); q.internal != 4500 || q.lifetime != 7200 {
					t.Fatalf("request %d: %+v", i, q)
				}
			}
			got := <-held
			if got.Protocol != tc.want || got.External != netip.AddrPortFrom(fakeExternal, 4501) || got.Lifetime != 7200*time.Second {
				t.Errorf("held %+v", got)
			}
			if len(held) != 0 {
				t.Errorf("renewals reported as new mappings: %d", len(held))
			}
			m.Close()
			for q := nextReq(t, r); q.lifetime != 0; q = nextReq(t, r) {
			}
			if _, ok := m.Mapping(); ok {
				t.Error("mapping held after Close")
			}
		})
	}
}

// TestMapperLost: a mapper whose router stops answering loses the
// mapping, and says so.
func TestMapperLost(t *testing.T) {
	r := newFakeRouter(t, false, 0)
	cfg := r.config()
	cfg.RenewEvery = 10 * time.Millisecond
	changes := make(chan bool, 8)
	cfg.OnChange = func(_ Mapping, held bool) { changes <- held }
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	defer m.Close()
	if !<-changes {
		t.Fatal("first change is not a mapping held")
	}
	r.conn.Close() // the router is gone: renewals fail
	select {
	case held := <-changes:
		if held {
			t.Error("mapping held again")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("loss not reported")
	}
}

// TestStartNoRouter: with no router answering, Start returns at once and
// Close within the mapper's timeout.
func TestStartNoRouter(t *testing.T) {
	silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	m, err := New(Config{
		Port:    4500,
		Gateway: func() (netip.Addr, error) { return netip.MustParseAddr("127.0.0.1"), nil },
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, silent.LocalAddr().String())
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	m.Start()
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("Start took %v", d)
	}
	start = time.Now()
	m.Close()
	if d := time.Since(start); d > 3*DefaultTimeout {
		t.Errorf("Close took %v", d)
	}
	if _, ok := m.Mapping(); ok {
		t.Error("mapping held without a router")
	}
}

func TestProbeFake(t *testing.T) {
	r := newFakeRouter(t, false, 0)
	cfg := r.config()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	o, err := Probe(ctx, netip.MustParseAddr("127.0.0.1"), cfg.Dial)
	if err != nil || o != (Offers{NATPMP: true}) {
		t.Errorf("offers %v, %v", o, err)
	}
}

func TestConfigInvalid(t *testing.T) {
	for _, c := range []Config{{}, {Port: 1, Lifetime: time.Millisecond}, {Port: 1, RetryMin: time.Hour, RetryMax: time.Second}} {
		if _, err := New(c); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
