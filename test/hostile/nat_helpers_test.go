package hostile

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// natGateway runs a real gateway on two loopback ports.
func natGateway(t *testing.T, cfg gateway.Config) *gateway.Gateway {
	t.Helper()
	return natpunchtest.StartGateway(t, cfg)
}

// natTarget is the gateway's first address as a connector target.
func natTarget(g *gateway.Gateway) connector.Target {
	return connector.Target{NodeID: g.NodeID(), Endpoint: g.Addrs()[0].String()}
}

// natBridge runs a real connector with NAT traversal through g; it echoes
// requests.
func natBridge(t *testing.T, g *gateway.Gateway, cfg natpunch.ClientConfig) (*connector.Connector, *natpunch.Client) {
	t.Helper()
	// The bridge's keep-alive stays below its relay idle timeout, as the
	// client's config check demands.
	keepAlive := 15 * time.Second
	if cfg.RelayIdleTimeout > 0 && cfg.RelayIdleTimeout <= keepAlive {
		keepAlive = cfg.RelayIdleTimeout / 4
	}
	c := connectortest.Start(t, connector.Config{KeepAlive: keepAlive}, nil)
	cfg.Gateways = []connector.Target{natTarget(g)}
	cl, err := natpunch.NewClient(c, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetHandler(cl.Handler(natpunchtest.Echo()))
	if err := cl.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Registered(ctx); err != nil {
		t.Fatal(err)
	}
	return c, cl
}

// natConnector runs a real connector with a fresh key: what an attacker
// has.
func natConnector(t *testing.T) *connector.Connector {
	return connectortest.Start(t, connector.Config{}, nil)
}

// natAsk sends a gateway control request with a msgpack payload, as any
// peer can, and decodes the answer into out if it is not nil.
func natAsk(ctx context.Context, c *connector.Connector, g *gateway.Gateway, typ string, in, out any) error {
	payload, err := msgpack.Marshal(in)
	if err != nil {
		return err
	}
	r, err := c.Request(ctx, connector.Outbound{Target: natTarget(g), Type: typ, Payload: payload})
	if err != nil || out == nil {
		return err
	}
	return msgpack.Unmarshal(r.Payload, out)
}

// natRegister registers c with g, claiming the local addresses local.
func natRegister(ctx context.Context, c *connector.Connector, g *gateway.Gateway, local []string, filtering string) error {
	return natAsk(ctx, c, g, "$pb.gw.register", map[string]any{
		"local": local, "mapping": wire.MappingIndependent, "filtering": filtering,
	}, nil)
}

// natSink counts the datagrams and bytes arriving on a loopback socket
// until the test ends.
type natSink struct {
	conn             *net.UDPConn
	datagrams, bytes atomic.Int64
	done             chan struct{}
}

func natNewSink(t *testing.T) *natSink {
	t.Helper()
	u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &natSink{conn: u, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 2048)
		for {
			n, _, err := u.ReadFromUDP(buf)
			if err != nil {
				return
			}
			s.datagrams.Add(1)
			s.bytes.Add(int64(n))
		}
	}()
	t.Cleanup(func() {
		u.Close()
		<-s.done
	})
	return s
}

func (s *natSink) addr() netip.AddrPort { return s.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// natCountNonQUIC counts the non-QUIC datagrams arriving on c's socket (a
// bare connector has no other reader of them) until the test ends.
func natCountNonQUIC(t *testing.T, c *connector.Connector) (datagrams, bytes *atomic.Int64) {
	datagrams, bytes = new(atomic.Int64), new(atomic.Int64)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			n, _, err := c.Transport().ReadNonQUICPacket(ctx, buf)
			if err != nil {
				return
			}
			datagrams.Add(1)
			bytes.Add(int64(n))
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return datagrams, bytes
}

// natPeakGoroutines samples the goroutine count every few milliseconds
// until stop is called, which returns the highest seen.
func natPeakGoroutines() (stop func() int) {
	var peak atomic.Int64
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if n := int64(runtime.NumGoroutine()); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	})
	return func() int {
		close(quit)
		wg.Wait()
		return int(peak.Load())
	}
}

// natSettle waits until count stops changing for quiet, or until within
// passes; it returns the last value.
func natSettle(count func() int64, quiet, within time.Duration) int64 {
	deadline := time.Now().Add(within)
	last, since := count(), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond) // polling, bounded by the deadline
		if n := count(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) >= quiet {
			break
		}
	}
	return last
}

// natWaitFor polls cond until it holds or within passes.
func natWaitFor(cond func() bool, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond) // polling, bounded by the deadline
	}
	return true
}

// natHeap returns the live heap after a collection.
func natHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// natRemoteCode returns the code of a refusal from a peer, or 0.
func natRemoteCode(err error) int {
	var re *connector.RemoteError
	if errors.As(err, &re) {
		return re.Code
	}
	return 0
}

// natWaitFast polls cond closely until it holds or within passes, for
// pacing a flood.
func natWaitFast(cond func() bool, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Microsecond) // polling, bounded by the deadline
	}
	return true
}
