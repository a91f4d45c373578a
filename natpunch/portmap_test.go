package natpunch

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
	"github.com/peerbridge/peerbridge/natpunch/portmap"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// A mapped port is tried where it is on the IP the gateway saw the peer
// come from, and left out elsewhere, like any other claim.
func TestReachableMapped(t *testing.T) {
	cl := &Client{}
	rec := wire.Record{
		Observed: netip.MustParseAddrPort("198.51.100.7:4000"),
		Mapped:   netip.MustParseAddrPort("198.51.100.7:6000"),
		Local:    []string{"198.51.100.8:6000", "203.0.113.1:6000"},
	}
	got := cl.reachable(rec.Observed, rec.Candidates(), nil)
	if fmt.Sprint(got) != "[198.51.100.7:4000 198.51.100.7:6000]" || cl.sent.addrsRefused.Load() != 2 {
		t.Errorf("targets %v, %d left out; want observed and mapped, 2 left out", got, cl.sent.addrsRefused.Load())
	}
}

// A peer that holds a mapping is dialled first, and is the side the other
// dials in a punch.
func TestMappedDialledFirst(t *testing.T) {
	cl := &Client{}
	sym := wire.Record{ID: "a", Mapping: wire.MappingDependent, Filtering: wire.FilteringDependent}
	mapped := sym
	mapped.ID, mapped.Mapped = "b", netip.MustParseAddrPort("198.51.100.7:6000")
	if !cl.directFirst(mapped) || !cl.punchMayWork(mapped) {
		t.Error("a mapped peer is not dialled first")
	}
	if !wire.ADials(sym, mapped) || wire.ADials(mapped, sym) {
		t.Error("the side without a mapping does not dial the mapped side")
	}
}

// silentRouter is a loopback UDP socket that never answers, and a
// portmap config whose every router connection goes to it.
func silentRouter(t *testing.T) *portmap.Config {
	s, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &portmap.Config{
		Gateway: func() (netip.Addr, error) { return netip.MustParseAddr("127.0.0.1"), nil },
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, s.LocalAddr().String())
		},
	}
}

// TestStartupNotSlowedByPortMapping: with port mapping on and no router
// answering, the bridge starts and registers as fast as without, well
// before the mapper has given up on even its first protocol. The bridges
// listen on 0.0.0.0, as a daemon does: one bound to loopback maps nothing.
func TestStartupNotSlowedByPortMapping(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{})
	gws := []connector.Target{natpunchtest.Target(g)}
	start := time.Now()
	startOnAll(t, ClientConfig{Gateways: gws})
	without := time.Since(start)
	start = time.Now()
	cl := startOnAll(t, ClientConfig{Gateways: gws, PortMap: silentRouter(t)})
	with := time.Since(start)
	t.Logf("start and registration: %v without port mapping, %v with no router answering", without, with)
	if cl.pm.m.Load() == nil {
		t.Fatal("no mapper running")
	}
	if with > without+portmap.DefaultTimeout/2 || with >= portmap.DefaultTimeout {
		t.Errorf("start and registration took %v with port mapping, %v without", with, without)
	}
	if _, ok := cl.PortMapping(); ok {
		t.Error("a mapping held with no router")
	}
}

// startOnAll starts a bridge listening on 0.0.0.0 and waits until it has
// registered.
func startOnAll(t *testing.T, cfg ClientConfig) *Client {
	c := connectortest.Start(t, connector.Config{ListenAddr: "0.0.0.0:0"}, nil)
	return startClientOn(t, c, cfg, nil)
}

// A gateway keeps the mapped address a bridge registers and answers it to
// lookups; a malformed one is dropped, not refused.
func TestGatewayPassesMapped(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	asker := connectortest.Start(t, connector.Config{}, nil)
	for _, tc := range []struct{ sent, want string }{
		{"198.51.100.7:6000", "198.51.100.7:6000"},
		{"not an address", ""},
		{"198.51.100.7:0", ""},
		{"", ""},
	} {
		c := connectortest.Start(t, connector.Config{}, nil)
		payload, err := wire.Encode(&wire.Registration{Mapped: tc.sent, Mapping: wire.MappingIndependent, Filtering: wire.FilteringIndependent})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Request(ctx, connector.Outbound{Target: natpunchtest.Target(g), Type: wire.TypeRegister, Payload: payload}); err != nil {
			t.Fatalf("registering with mapped %q: %v", tc.sent, err)
		}
		req, _ := wire.Encode(&wire.NodeRequest{Node: string(c.NodeID())})
		r, err := asker.Request(ctx, connector.Outbound{Target: natpunchtest.Target(g), Type: wire.TypeLookup, Payload: req})
		if err != nil {
			t.Fatal(err)
		}
		var info wire.PeerInfo
		if err := wire.Decode(r.Payload, &info); err != nil || info.Mapped != tc.want {
			t.Errorf("registered mapped %q: lookup answered %q, %v; want %q", tc.sent, info.Mapped, err, tc.want)
		}
	}
}
