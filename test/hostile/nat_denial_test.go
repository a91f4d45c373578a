package hostile

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// TestNATPunchDenialIsPerAsker is issue 18, row 3: 16 keys each asked for
// 30 punches a second toward one victim, each within its own rate, and
// drained the victim's per-target budget at the gateway, so a legitimate
// peer's punches and relays were all answered 429. Each asker now has its
// own share of what a target may be asked. The attack runs against the
// old limits (one budget per target, no share per asker) and against the
// defaults, in the same run; with the defaults the gateway lets every
// legitimate ask through and the victim takes at least one.
func TestNATPunchDenialIsPerAsker(t *testing.T) {
	old := gateway.Limits{Notifies: ratelimit.Rate{PerSecond: 1, Burst: 10}, PairNotifies: ratelimit.Unlimited}
	oldRefused, _ := natPunchDenial(t, old)
	refused, taken := natPunchDenial(t, gateway.Limits{})
	t.Logf("legitimate punch asks during the attack: old limits %d of 4 refused by the gateway; defaults %d of 4 refused by the gateway, %d taken by the victim", oldRefused, refused, taken)
	if refused != 0 || taken == 0 {
		t.Errorf("with the default limits %d of 4 legitimate asks were refused by the gateway and %d taken by the victim; want none refused and at least one taken", refused, taken)
	}
}

// natPunchDenial runs the attack against a gateway with limits l and
// returns how many of four legitimate asks, made once the attack is under
// way, the gateway refused by its rate toward the victim, and how many the
// victim took.
func natPunchDenial(t *testing.T, l gateway.Limits) (refusedByGateway, takenByVictim int) {
	const (
		attackers = 16
		perSecond = 30
		attackFor = 6 * time.Second
	)
	g := natGateway(t, gateway.Config{Limits: l})
	victim, _ := natBridge(t, g, natpunch.ClientConfig{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	register := func() *connector.Connector {
		c := natConnector(t)
		if err := natRegister(ctx, c, g, nil, wire.FilteringDependent); err != nil {
			t.Fatal(err)
		}
		return c
	}
	ask := func(c *connector.Connector) error {
		return natAsk(ctx, c, g, wire.TypePunchAsk, wire.NodeRequest{Node: string(victim.NodeID())}, nil)
	}
	var keys, legit []*connector.Connector
	for range attackers {
		keys = append(keys, register())
	}
	for range 4 {
		legit = append(legit, register())
	}
	var wg sync.WaitGroup
	var asked atomic.Int64
	stop := time.Now().Add(attackFor)
	for _, k := range keys {
		wg.Go(func() {
			tick := time.NewTicker(time.Second / perSecond)
			defer tick.Stop()
			for i := 0; i < int(attackFor/time.Second)*perSecond && time.Now().Before(stop); i++ {
				ask(k)
				asked.Add(1)
				<-tick.C
			}
		})
	}
	// The legitimate asks come once the attack's first wave has passed.
	wait := time.NewTimer(attackFor * 2 / 3)
	<-wait.C
	for _, c := range legit {
		err := ask(c)
		switch {
		case err == nil:
			takenByVictim++
		case natRemoteCode(err) == wire.CodeRateLimited && strings.Contains(err.Error(), "toward"):
			refusedByGateway++
		default:
			t.Logf("legitimate ask: %v", err)
		}
	}
	wg.Wait()
	st := g.Stats()
	t.Logf("limits %+v: %d attacker asks; gateway refused %d by the target's rate, %d by the asker's share", l, asked.Load(), st.NotifyLimited, st.PairLimited)
	return refusedByGateway, takenByVictim
}

// TestNATRelaySlotsPerAsker is issue 18, row 4: 5 keys asked for relay
// sessions with a victim again and again and held 15 of its 16 slots at
// the gateway, so a legitimate peer's relay asks were answered 503 "too
// many relay sessions". A key now holds one session with a node by
// asking: each new ask replaces its last, at the gateway and at the
// victim. Legitimate asks after the attack all get a session.
func TestNATRelaySlotsPerAsker(t *testing.T) {
	g := natGateway(t, gateway.Config{})
	victim, vcl := natBridge(t, g, natpunch.ClientConfig{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	ask := func(c *connector.Connector) error {
		return natAsk(ctx, c, g, wire.TypeRelayAsk, wire.NodeRequest{Node: string(victim.NodeID())}, nil)
	}
	register := func() *connector.Connector {
		c := natConnector(t)
		if err := natRegister(ctx, c, g, nil, wire.FilteringDependent); err != nil {
			t.Fatal(err)
		}
		return c
	}
	granted := 0
	for range 5 {
		k := register()
		for range 3 {
			if ask(k) == nil {
				granted++
			}
		}
	}
	sessions := g.Stats().RelaySessions
	legitOK := 0
	for range 9 {
		if err := ask(register()); err == nil {
			legitOK++
		} else {
			t.Logf("legitimate relay ask: %v", err)
		}
	}
	t.Logf("5 keys: %d asks granted, %d sessions held; 9 legitimate asks: %d granted; victim relay stats %+v", granted, sessions, legitOK, vcl.RelayStats())
	if sessions != 5 {
		t.Errorf("5 keys hold %d sessions with the victim, want 5", sessions)
	}
	if legitOK != 9 {
		t.Errorf("%d of 9 legitimate relay asks granted, want 9", legitOK)
	}
}
