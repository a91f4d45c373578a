package hostile

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// TestNATPunchAmplification is issue 9, point 3: a registered key claims
// sixteen local addresses of its choosing and asks the gateway for a
// hundred punches toward a victim bridge. The victim's punch traffic must
// stay within its per-peer budget and go nowhere but to the attacker's own
// observed address, its goroutines must stay bounded, and a legitimate peer
// must still reach it.
func TestNATPunchAmplification(t *testing.T) {
	for _, tc := range []struct {
		name, filtering string
	}{
		// Claiming a NAT that admits nobody makes the victim the side that
		// sprays; claiming one that admits anyone makes it the side that
		// dials.
		{"victim sprays", wire.FilteringDependent},
		{"victim dials", wire.FilteringIndependent},
	} {
		t.Run(tc.name, func(t *testing.T) { natPunchAttack(t, tc.filtering) })
	}
}

func natPunchAttack(t *testing.T, filtering string) {
	g := natGateway(t, gateway.Config{})
	victim, vcl := natBridge(t, g, natpunch.ClientConfig{})
	legit, _ := natBridge(t, g, natpunch.ClientConfig{})
	attacker := natConnector(t)
	atkDatagrams, atkBytes := natCountNonQUIC(t, attacker)
	var local []string
	var sinks []*natSink
	for range 16 {
		s := natNewSink(t)
		sinks = append(sinks, s)
		local = append(local, s.addr().String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := natRegister(ctx, attacker, g, local, filtering); natRemoteCode(err) != connector.CodeBadRequest {
		t.Errorf("registering 16 local addresses: %v, want a bad request", err)
	}
	if err := natRegister(ctx, attacker, g, local[:gateway.DefaultMaxLocalAddrs], filtering); err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	peak := natPeakGoroutines()
	const requests = 100
	var accepted atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for range requests {
		wg.Go(func() {
			if natAsk(ctx, attacker, g, "$pb.gw.punch", map[string]any{"node": string(victim.NodeID())}, nil) == nil {
				accepted.Add(1)
			}
		})
	}
	wg.Wait()
	answered := time.Since(began)
	// A legitimate peer reaches the victim during the attack.
	if _, err := legit.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: victim.NodeID()}, Type: "echo", Payload: []byte("hi")}); err != nil {
		t.Errorf("a legitimate peer could not reach the victim during the attack: %v", err)
	}
	sinkTotal := func() (n, b int64) {
		for _, s := range sinks {
			n, b = n+s.datagrams.Load(), b+s.bytes.Load()
		}
		return n, b
	}
	natSettle(func() int64 { n, _ := sinkTotal(); return n + atkDatagrams.Load() }, time.Second, 12*time.Second)
	peakG := peak()
	sinkN, sinkB := sinkTotal()
	st := vcl.PunchStats()
	t.Logf("%d punch requests, %d accepted in %v; victim sent %d datagrams (%d B) to the claimed addresses and %d (%d B) to the attacker; goroutines %d -> peak %d; victim stats %+v",
		requests, accepted.Load(), answered, sinkN, sinkB, atkDatagrams.Load(), atkBytes.Load(), base, peakG, st)
	if sinkN != 0 {
		t.Errorf("the victim sent %d datagrams to addresses the attacker only claimed", sinkN)
	}
	budget := int64(natpunch.DefaultPunchesPerMinute+1) * int64(natpunch.DefaultPunchPackets)
	if n := atkDatagrams.Load(); n > budget {
		t.Errorf("the victim sent %d punch datagrams to the attacker, budget %d", n, budget)
	}
	if st.PacketsSent > uint64(budget) || st.Refused == 0 {
		t.Errorf("victim punch stats %+v: want at most %d packets sent and refusals counted", st, budget)
	}
	if gst := g.Stats(); gst.PunchLimited == 0 {
		t.Errorf("gateway stats %+v: want punch requests refused by its rate", gst)
	}
	if peakG > base+requests+300 {
		t.Errorf("goroutines peaked at %d from %d", peakG, base)
	}
}
