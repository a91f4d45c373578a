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

// backToUDPWithin is how soon a bridge on the TCP relay must register over
// UDP again once its network passes UDP.
const backToUDPWithin = 15 * time.Second

// TestCorporateReachesEveryone puts two bridges on networks that drop all
// UDP (two corporate NATs) beside a public bridge and one behind a home
// NAT. The corporate bridges register over the TCP relay, and every pair
// reaches the other both ways, every request answered. When one corporate
// network starts passing UDP, its bridge registers over UDP within
// backToUDPWithin, no request failing meanwhile, and its pairs leave the
// relay as relayed pairs do.
func TestCorporateReachesEveryone(t *testing.T) {
	lab := natlab.New(t)
	g := startGateway(t, lab.AddPublicHost("gw", 2))
	corpA := lab.AddNAT("corpa", natlab.Corporate)
	hosts := map[string]*natlab.Host{
		"pub":  lab.AddPublicHost("pub", 1),
		"home": lab.AddNAT("homenat", natlab.PortRestricted).AddHost("home"),
		"c1":   corpA.AddHost("c1"),
		"c2":   lab.AddNAT("corpb", natlab.Corporate).AddHost("c2"),
	}
	peers := make(map[string]*peer)
	for _, name := range []string{"pub", "home", "c1", "c2"} {
		cfg := peerConfig(g)
		cfg.DialTCP = hosts[name].DialTCP
		peers[name] = startPeer(t, name, hosts[name], cfg)
	}
	for name, want := range map[string]bool{"pub": false, "home": false, "c1": true, "c2": true} {
		if got := peers[name].cl.OnTCP(); got != want {
			t.Fatalf("%s on the TCP relay: %v, want %v", name, got, want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), firstReplyWait)
	defer cancel()
	for _, pair := range [][2]string{{"c1", "pub"}, {"c1", "home"}, {"c1", "c2"}, {"c2", "pub"}, {"c2", "home"}} {
		for _, dir := range [][2]*peer{{peers[pair[0]], peers[pair[1]]}, {peers[pair[1]], peers[pair[0]]}} {
			got, err := dir[0].ask(ctx, dir[1], "through a UDP-blocked network")
			if err != nil {
				t.Fatal(err)
			}
			if got.path != "relayed" {
				t.Errorf("%s to %s: path %q, want relayed", dir[0].name, dir[1].name, got.path)
			}
			t.Logf("%s to %s: %s in %s", dir[0].name, dir[1].name, got.path, got.took.Round(time.Millisecond))
		}
	}

	// What 'peerbridge probe' reports on the corporate network.
	if _, err := peers["c2"].cl.Probe(ctx, g.Addrs()[0]); !errors.Is(err, natpunch.ErrNoAnswer) {
		t.Errorf("c2's UDP probe: %v, want no answer", err)
	}
	if r, err := peers["c2"].cl.ProbeTCP(ctx, peerConfig(g).Gateways[0]); err != nil || r.UDP != natpunch.UDPBlocked {
		t.Errorf("c2's TCP probe: %+v, %v; want udp: blocked", r, err)
	}

	c1, pub := peers["c1"], peers["pub"]
	stop := make(chan struct{})
	upgraded := make(chan string, 1)
	var wg sync.WaitGroup
	var sent int
	var failures []error
	wg.Go(func() { sent, failures = keepAsking(c1, pub, stop, upgraded) })
	unblocked := time.Now()
	if err := corpA.SetUDPBlocked(false); err != nil {
		close(stop)
		wg.Wait()
		t.Fatal(err)
	}
	if !waitFor(backToUDPWithin, func() bool { return c1.cl.TCPStats().Returns == 1 }) {
		t.Errorf("c1 still on the TCP relay %s after its network passed UDP", backToUDPWithin)
	} else {
		t.Logf("c1 registered over UDP %s after its network passed UDP", time.Since(unblocked).Round(time.Millisecond))
	}
	wait, cancelWait := context.WithTimeout(context.Background(), upgradeWait)
	defer cancelWait()
	select {
	case path := <-upgraded:
		t.Logf("c1's requests to pub moved to %s %s after UDP was unblocked", path, time.Since(unblocked).Round(time.Millisecond))
	case <-wait.Done():
		t.Errorf("c1's requests to pub still relayed %s after UDP was unblocked", upgradeWait)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d requests sent while c1 moved to UDP, %d failed", sent, len(failures))
	for _, err := range failures {
		t.Errorf("request failed while c1 moved to UDP: %v", err)
	}
	if st := c1.cl.TCPStats(); st.Active || st.Fallbacks != 1 || st.Returns != 1 {
		t.Errorf("c1's TCP stats %+v, want one fallback, one return and UDP now", st)
	}
}

// waitFor polls cond every 50 ms until it holds or within has passed, and
// reports whether it held.
func waitFor(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}
