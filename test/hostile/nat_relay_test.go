package hostile

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// natGrant is the gateway's relay grant.
// natFloodRate and natFloodBurst are TestNATRelayFlood's per-client relay
// budget.
const (
	natFloodRate  = 2000
	natFloodBurst = 4000
)

type natGrant struct {
	Node    string `msgpack:"node"`
	Session []byte `msgpack:"session"`
}

// TestNATRelayFlood is issue 9, point 5: a fresh key opens relay sessions
// toward a victim bridge that never asked for them and pushes 20,000
// packets of 1 KB at it through the gateway. The key holds one session with
// the victim however often it asks (each ask replaces its last: issue 18,
// row 4), the packets of replaced sessions are dropped as unknown, the
// packets forwarded to it must
// stay within the gateway's per-client budget, its sessions must expire
// when idle, and a legitimate peer must still reach it. The gateway's
// per-client budget is set below the default here (which carries 8 MiB/s),
// so that the flood exceeds it however fast the test machine pushes.
func TestNATRelayFlood(t *testing.T) {
	relay := gateway.RelayLimits{ClientPackets: ratelimit.Rate{PerSecond: natFloodRate, Burst: natFloodBurst}}
	g := natGateway(t, gateway.Config{Relay: relay})
	victim, vcl := natBridge(t, g, natpunch.ClientConfig{RelayIdleTimeout: 2 * time.Second})
	legit, _ := natBridge(t, g, natpunch.ClientConfig{})
	attacker := natConnector(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := natRegister(ctx, attacker, g, nil, wire.FilteringIndependent); err != nil {
		t.Fatal(err)
	}
	const asks = 50
	var grants []natGrant
	for range asks {
		var gr natGrant
		if natAsk(ctx, attacker, g, "$pb.gw.relay", map[string]any{"node": string(victim.NodeID())}, &gr) == nil {
			grants = append(grants, gr)
		}
	}
	if len(grants) == 0 {
		t.Fatal("no relay session granted at all")
	}
	_, fwd0, _ := g.RelayStats()
	const packets = 20_000
	gw := net.UDPAddrFromAddrPort(g.Addrs()[0])
	inner := make([]byte, 1024)
	inner[0] = 0x40 // a QUIC short header, as a relayed connection sends
	began := time.Now()
	_, _, drop0 := g.RelayStats()
	handled := func() int64 { _, f, d := g.RelayStats(); return int64(f - fwd0 + d - drop0) }
	var lost int64
	live := grants[len(grants)-1].Session // the key's one session: the others were replaced
	for i := range packets {
		session := live
		if i%4 == 0 {
			session = grants[0].Session // replaced, unless it was the only one
		}
		pkt := append([]byte{0x04, 'P', 'B'}, session...)
		if _, err := attacker.Transport().WriteTo(append(pkt, inner...), gw); err != nil {
			t.Fatal(err)
		}
		// As fast as the gateway reads, not faster: its queue of non-QUIC
		// packets is short, and packets lost there would flatter the gateway.
		if want := int64(i+1) - lost; i%16 == 15 && !natWaitFast(func() bool { return handled() >= want }, 100*time.Millisecond) {
			lost = int64(i+1) - handled()
		}
	}
	pushed := time.Since(began)
	forwarded := func() int64 { _, f, _ := g.RelayStats(); return int64(f - fwd0) }
	natSettle(forwarded, 500*time.Millisecond, 5*time.Second)
	sessions, _, dropped := g.RelayStats()
	dropped -= drop0
	vst := vcl.RelayStats()
	t.Logf("%d relay asks, %d granted; %d packets pushed in %v, %d lost before the gateway read them, %d forwarded to the victim, %d dropped; gateway sessions %d; victim %+v",
		asks, len(grants), packets, pushed, lost, forwarded(), dropped, sessions, vst)
	if len(grants) > natpunch.DefaultRelaySessionsPerPeer {
		t.Errorf("the victim agreed to %d sessions from one peer, bound %d", len(grants), natpunch.DefaultRelaySessionsPerPeer)
	}
	limit := natFloodBurst + int64(natFloodRate*(pushed.Seconds()+1))
	if n := forwarded(); n > limit {
		t.Errorf("%d relayed packets reached the victim, budget %d", n, limit)
	}
	if vst.Sessions > 1 {
		t.Errorf("victim relay stats %+v: the key holds more than one session", vst)
	}
	if gst := g.Stats(); gst.RelayDroppedLimit == 0 || (len(grants) > 1 && gst.RelayDroppedUnknown == 0) || gst.RelaySessions > 1 {
		t.Errorf("gateway stats %+v: want packets over the budget and on replaced sessions dropped, one session held", gst)
	}
	// Relay packets sent straight to the victim, not through its gateway,
	// are dropped.
	for range 50 {
		pkt := append([]byte{0x04, 'P', 'B'}, live...)
		if _, err := attacker.Transport().WriteTo(append(pkt, inner...), net.UDPAddrFromAddrPort(victim.Addr())); err != nil {
			t.Fatal(err)
		}
	}
	if !natWaitFor(func() bool { return vcl.RelayStats().Dropped > vst.Dropped }, 5*time.Second) {
		t.Errorf("relay packets from a stranger were not dropped: %+v", vcl.RelayStats())
	}
	if _, err := legit.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: victim.NodeID()}, Type: "echo", Payload: []byte("hi")}); err != nil {
		t.Errorf("a legitimate peer could not reach the victim during the attack: %v", err)
	}
	if !natWaitFor(func() bool { return vcl.RelayStats().Sessions == 0 }, 8*time.Second) {
		t.Errorf("the victim's idle relay sessions did not expire: %+v", vcl.RelayStats())
	}
}
