package hostile

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// TestNATTCPRelayClientsCountAsTheirIP is issue 18, row 2: one IP opened
// 16 WebSockets to the gateway's TCP relay and dialled QUIC through each,
// and held 1,998 of the gateway's 2,000 QUIC connections, because each TCP
// relay client reached the gateway's connector from a loopback address of
// its own. Six bridges on the TCP relay from one IP now get the gateway's
// QUIC per-IP bound between them (3 here), and a bridge from another IP
// still registers over UDP.
func TestNATTCPRelayClientsCountAsTheirIP(t *testing.T) {
	const perIP, clients = 3, 6
	g := natGateway(t, gateway.Config{Conn: connector.Config{MaxConnsPerIP: perIP}})
	hole := natpunchtest.BlackHole(t) // UDP to the gateway gets no answer
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var registered atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		c := connectortest.Start(t, connector.Config{}, nil)
		cl, err := natpunch.NewClient(c, natpunch.ClientConfig{
			Gateways: []connector.Target{{NodeID: g.NodeID(), Endpoint: hole.LocalAddr().String()}},
			TCPRelay: g.Addrs()[0].String(),
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.SetHandler(cl.Handler(natpunchtest.Echo()))
		if err := cl.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		wg.Go(func() {
			rctx, rcancel := context.WithTimeout(ctx, 8*time.Second)
			defer rcancel()
			if cl.Registered(rctx) == nil {
				registered.Add(1)
			}
		})
	}
	wg.Wait()
	tcpClients, _, _ := g.TCPStats()
	t.Logf("%d bridges on the TCP relay from one IP: %d WebSockets, %d registered (QUIC per-IP bound %d)", clients, tcpClients, registered.Load(), perIP)
	if registered.Load() != perIP {
		t.Errorf("%d of %d TCP relay bridges from one IP registered, want %d (the QUIC per-IP bound)", registered.Load(), clients, perIP)
	}
	legit := connectortest.Start(t, connector.Config{ListenAddr: "127.0.0.2:0"}, nil)
	if err := natRegister(ctx, legit, g, nil, wire.FilteringIndependent); err != nil {
		t.Errorf("a bridge from another IP could not register: %v", err)
	}
}
