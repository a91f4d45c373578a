package natlab_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/test/natlab"
)

const (
	// upgradeWait bounds how long a relayed pair may take to move to a
	// direct path once one exists.
	upgradeWait = 60 * time.Second
	// patientRequest bounds each request while paths change under it: a
	// NAT that forgets its mappings stalls the relay until the bridge
	// re-registers, which must delay requests, not fail them.
	patientRequest = 30 * time.Second
	// askEvery paces the requests sent while the path changes.
	askEvery = 10 * time.Millisecond
	// maxUpgradeRequests bounds them: enough for twice upgradeWait.
	maxUpgradeRequests = int(2 * upgradeWait / askEvery)
)

// TestSameNATFindEachOther puts two bridges behind one port-restricted NAT,
// which does not hairpin: they can reach each other only over their LAN,
// from the local addresses they registered.
func TestSameNATFindEachOther(t *testing.T) {
	lab := natlab.New(t)
	g := startGateway(t, lab.AddPublicHost("gw", 2))
	nat := lab.AddNAT("home", natlab.PortRestricted)
	ha, hb := nat.AddHost("a"), nat.AddHost("b")
	a := startPeer(t, "a", ha, peerConfig(g))
	b := startPeer(t, "b", hb, peerConfig(g))
	ctx, cancel := context.WithTimeout(context.Background(), firstReplyWait)
	defer cancel()
	for _, dir := range [][2]*peer{{a, b}, {b, a}} {
		got, err := dir[0].ask(ctx, dir[1], "on the LAN")
		if err != nil {
			t.Fatal(err)
		}
		if got.path != "direct" {
			t.Errorf("%s to %s: path %q, want direct", dir[0].name, dir[1].name, got.path)
		}
		t.Logf("%s to %s: %s in %s", dir[0].name, dir[1].name, got.path, got.took.Round(time.Millisecond))
	}
	if sessions, _, _ := g.RelayStats(); sessions != 0 {
		t.Errorf("%d relay sessions, want none", sessions)
	}
}

// TestRelayedPairUpgrades relays two bridges behind symmetric NATs, then
// turns one NAT into a full cone (a restart that forgets every mapping)
// while both keep sending requests. Their paths must leave the relay
// within upgradeWait, and no request may fail on the way.
func TestRelayedPairUpgrades(t *testing.T) {
	lab := natlab.New(t)
	g := startGateway(t, lab.AddPublicHost("gw", 2))
	na := lab.AddNAT("na", natlab.Symmetric)
	ha := na.AddHost("a")
	hb := lab.AddNAT("nb", natlab.Symmetric).AddHost("b")
	a := startPeer(t, "a", ha, peerConfig(g))
	b := startPeer(t, "b", hb, peerConfig(g))
	requireRelayed(t, a, b)
	sent := upgradeUnderLoad(t, na, a, b, upgradeWait)
	t.Logf("%d requests sent while the path changed", sent)
}

// requireRelayed checks that a and b reach each other through the relay,
// each way.
func requireRelayed(t *testing.T, a, b *peer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), firstReplyWait)
	defer cancel()
	for _, dir := range [][2]*peer{{a, b}, {b, a}} {
		got, err := dir[0].ask(ctx, dir[1], "before")
		if err != nil {
			t.Fatal(err)
		}
		if got.path != "relayed" {
			t.Fatalf("%s to %s: path %q before the change, want relayed", dir[0].name, dir[1].name, got.path)
		}
	}
}

// upgradeUnderLoad keeps a and b asking each other while it turns na into
// a full cone, and checks that both directions leave the relay within
// within and that no request fails. It returns how many requests were sent.
func upgradeUnderLoad(t *testing.T, na *natlab.NAT, a, b *peer, within time.Duration) int {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []error
	sent := 0
	upgraded := make(map[string]chan string) // per direction: the first non-relayed path
	for _, dir := range [][2]*peer{{a, b}, {b, a}} {
		ch := make(chan string, 1)
		upgraded[dir[0].name] = ch
		wg.Go(func() {
			n, errs := keepAsking(dir[0], dir[1], stop, ch)
			mu.Lock()
			sent += n
			failures = append(failures, errs...)
			mu.Unlock()
		})
	}
	changed := time.Now()
	if err := na.SetKind(natlab.FullCone); err != nil {
		close(stop)
		wg.Wait()
		t.Fatal(err)
	}
	wait, cancelWait := context.WithTimeout(context.Background(), within)
	defer cancelWait()
	for name, ch := range upgraded {
		select {
		case path := <-ch:
			t.Logf("%s's requests moved to %s %s after the NAT changed", name, path, time.Since(changed).Round(time.Millisecond))
		case <-wait.Done():
			t.Errorf("%s's requests still relayed %s after the NAT became a full cone", name, within)
		}
	}
	close(stop)
	wg.Wait()
	for _, err := range failures {
		t.Errorf("request failed while the path changed: %v", err)
	}
	return sent
}

// keepAsking sends requests from one peer to another, one after the
// other and at most one per askEvery, until stop is closed or
// maxUpgradeRequests were sent. It reports the first reply that did not
// come through the relay on upgraded, and returns how many requests it
// sent and those that failed.
func keepAsking(from, to *peer, stop <-chan struct{}, upgraded chan<- string) (sent int, errs []error) {
	reported := false
	pace := time.NewTicker(askEvery)
	defer pace.Stop()
	for range maxUpgradeRequests {
		select {
		case <-stop:
			return sent, errs
		case <-pace.C:
		}
		sent++
		ctx, cancel := context.WithTimeout(context.Background(), patientRequest)
		got, err := from.ask(ctx, to, "during")
		cancel()
		switch {
		case err != nil:
			errs = append(errs, err)
		case got.path == "":
			errs = append(errs, errors.New(from.name+": reply without a path"))
		case got.path != "relayed" && !reported:
			upgraded <- got.path
			reported = true
		}
	}
	return sent, errs
}

// upgradeWithin is how soon a relayed pair must take a direct path once
// one opens, with the default upgrade backoff, however long it was relayed.
const upgradeWithin = 15 * time.Second

// TestRelayedPairUpgradesWAN relays two bridges behind symmetric NATs in a
// lab with 40 ms of RTT and jitter, long enough for their upgrade backoff
// to reach its default maximum, then turns one NAT into a full cone. Both
// directions must leave the relay within upgradeWithin, with no request
// failing.
func TestRelayedPairUpgradesWAN(t *testing.T) {
	t.Parallel()
	lab := natlab.New(t, natlab.WithWire(wanWire))
	g := startGateway(t, lab.AddPublicHost("gw", 2))
	na := lab.AddNAT("na", natlab.Symmetric)
	ha := na.AddHost("a")
	hb := lab.AddNAT("nb", natlab.Symmetric).AddHost("b")
	attempts := make(chan struct{}, 64)
	cfg := peerConfig(g)
	cfg.UpgradeMin, cfg.UpgradeMax = 0, 0 // the defaults
	cfgA := cfg
	cfgA.Trace = func(e natpunch.Event) {
		if e.Step == "upgrade" {
			select {
			case attempts <- struct{}{}:
			default:
			}
		}
	}
	a := startPeer(t, "a", ha, cfgA)
	b := startPeer(t, "b", hb, cfg)
	requireRelayed(t, a, b)
	// Four failed attempts (after 1, 2, 4 and 8 s) bring the backoff to
	// its maximum: what follows holds however long the pair was relayed.
	backoff, cancelBackoff := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancelBackoff()
	for i := range 4 {
		select {
		case <-attempts:
		case <-backoff.Done():
			t.Fatalf("only %d upgrade attempts while relayed", i)
		}
	}

	upgradeUnderLoad(t, na, a, b, upgradeWithin)
}
