package natpunch

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
)

// relayPair is two bridges relayed through one gateway; b is on the TCP
// relay if asked.
type relayPair struct {
	a, b     *connector.Connector
	received atomic.Int64 // messages b took in
}

// newRelayPair relays a to b through a gateway without relay limits, so
// the figures are the transport's, not the limits' (whose defaults carry
// about 5 MB/s per client).
func newRelayPair(tb testing.TB, tcp bool) *relayPair {
	g := natpunchtest.StartGateway(tb, gateway.Config{Relay: gateway.RelayLimits{MaxRate: -1, ClientPackets: ratelimit.Unlimited, ReceivePackets: ratelimit.Unlimited, Packets: ratelimit.Unlimited}})
	gwTarget := connector.Target{NodeID: g.NodeID(), Endpoint: g.Addrs()[0].String()}
	p := &relayPair{}
	counting := connector.HandlerFunc(func(_ context.Context, m *connector.Message) (*connector.Response, error) {
		p.received.Add(1)
		return &connector.Response{Payload: m.Payload}, nil
	})
	var cla *Client
	p.a, cla = startBridgeServing(tb, ClientConfig{Gateways: []connector.Target{gwTarget}}, counting)
	cfg := ClientConfig{Gateways: []connector.Target{gwTarget}}
	if tcp {
		cfg.Gateways[0].Endpoint = natpunchtest.BlackHole(tb).LocalAddr().String()
		cfg.TCPRelay = g.Addrs()[0].String()
	}
	p.b, _ = startBridgeServing(tb, cfg, counting)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cla.relayTo(ctx, cla.gateways[0], p.b.NodeID()); err != nil {
		tb.Fatal(err)
	}
	r, err := p.a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: p.b.NodeID()}, Type: "echo"})
	if err != nil {
		tb.Fatal(err)
	}
	if _, forwarded, _ := g.RelayStats(); r.Path != connector.PathRelayed || forwarded == 0 {
		tb.Fatalf("path %q, %d packets relayed; want the relay", r.Path, forwarded)
	}
	return p
}

func (p *relayPair) request(ctx context.Context, payload []byte) error {
	_, err := p.a.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: p.b.NodeID()}, Type: "echo", Payload: payload})
	return err
}

// BenchmarkRelay compares the relay over UDP with the relay over TCP:
// request-reply round trips of 64 bytes (p50 reported), and one-way sends
// of 16 KiB from 8 senders (throughput). Run it with a fixed count, e.g.
//
//	go test -run '^$' -bench BenchmarkRelay -benchtime 2000x ./natpunch
func BenchmarkRelay(b *testing.B) {
	for _, mode := range []struct {
		name string
		tcp  bool
	}{{"udp", false}, {"tcp", true}} {
		b.Run(mode.name+"/request-64B", func(b *testing.B) {
			p := newRelayPair(b, mode.tcp)
			ctx := context.Background()
			payload := make([]byte, 64)
			took := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if err := p.request(ctx, payload); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
		})
		b.Run(mode.name+"/send-16KiB", func(b *testing.B) {
			p := newRelayPair(b, mode.tcp)
			const senders = 8
			payload := make([]byte, 16<<10)
			b.SetBytes(int64(len(payload)))
			before := p.received.Load()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range senders {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						err := p.a.Send(ctx, connector.Outbound{Target: connector.Target{NodeID: p.b.NodeID()}, Type: "sink", Payload: payload})
						cancel()
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if !natpunchtest.WaitUntil(ctx, func() bool { return p.received.Load()-before >= int64(b.N) }) {
				b.Fatalf("received %d of %d", p.received.Load()-before, b.N)
			}
		})
	}
}
