package natpunch

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/natpunch/wire"
)

func TestOnSubnet(t *testing.T) {
	subnets := []netip.Prefix{netip.MustParsePrefix("198.19.1.0/24"), netip.MustParsePrefix("fd00::/64")}
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"198.19.1.10", true},
		{"fd00::7", true},
		{"198.19.1.0", false},   // the network's own address
		{"198.19.1.255", false}, // its broadcast
		{"198.19.2.10", false},  // another network
		{"127.0.0.1", false},
		{"224.0.0.1", false},
	} {
		if got := onSubnet(netip.MustParseAddr(tc.ip), subnets); got != tc.want {
			t.Errorf("onSubnet(%s) = %v, want %v", tc.ip, got, tc.want)
		}
	}
}

// A punch goes to the address the gateway observed and to a few claimed
// addresses on this host's subnets, never to other claims.
func TestPunchTargetsLeaveOutClaims(t *testing.T) {
	cl := &Client{}
	plan := wire.PunchPlan{
		Observed: "127.0.0.1:4000",
		Addrs: []string{
			"127.0.0.1:4000", "127.0.0.1:5000", "198.19.2.1:80", "[::ffff:198.19.1.7]:80", "nonsense",
			"198.19.1.8:80", "198.19.1.9:80", "198.19.1.10:80", "198.19.1.11:80",
		},
	}
	got := cl.punchTargets(plan, []netip.Prefix{netip.MustParsePrefix("198.19.1.0/24")})
	if fmt.Sprint(got) != "[127.0.0.1:4000 198.19.1.7:80 198.19.1.8:80 198.19.1.9:80]" || cl.sent.addrsRefused.Load() != 5 {
		t.Fatalf("targets %v, %d left out; want the observed address and 3 on the subnet, 5 left out", got, cl.sent.addrsRefused.Load())
	}
}

func TestPunchGate(t *testing.T) {
	cfg := ClientConfig{PunchesPerMinute: 2, MaxPunches: 2}
	cfg.populate()
	g := newPunchGate(cfg)
	now := time.Unix(1000, 0)
	relA, err := g.admit("a", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.admit("a", now); !errors.Is(err, ErrPunchInFlight) {
		t.Errorf("a second punch for a: %v", err)
	}
	relB, err := g.admit("b", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.admit("c", now); !errors.Is(err, ErrPunchBusy) {
		t.Errorf("a third punch at once: %v", err)
	}
	relA()
	relB()
	relA, err = g.admit("a", now)
	if err != nil {
		t.Fatal(err)
	}
	relA()
	if _, err := g.admit("a", now); !errors.Is(err, ErrPunchRate) {
		t.Errorf("a third punch for a within a minute: %v", err)
	}
	if g.started.Load() != 3 || g.refused.Load() != 3 || g.running() != 0 {
		t.Errorf("started %d, refused %d, running %d", g.started.Load(), g.refused.Load(), g.running())
	}
}

// FuzzPunchTargets feeds any observed and claimed addresses to the choice
// of punch targets: at most maxPunchAddrs, each the observed address, on
// one of the subnets, or another port of the observed public IP (where a
// port mapping puts it), and every claim either kept or counted.
func FuzzPunchTargets(f *testing.F) {
	f.Add("127.0.0.1:4000", "127.0.0.1:4000,198.19.1.7:80,198.19.1.255:80,198.19.2.1:1,[::ffff:198.19.1.8]:9,x")
	f.Add("", "198.19.1.0:1,224.0.0.1:1,[fd00::1]:1")
	subnets := []netip.Prefix{netip.MustParsePrefix("198.19.1.0/24"), netip.MustParsePrefix("fd00::/64")}
	f.Fuzz(func(t *testing.T, observed, claimed string) {
		cl := &Client{}
		plan := wire.PunchPlan{Observed: observed, Addrs: strings.Split(claimed, ",")}
		got := cl.punchTargets(plan, subnets)
		obs, err := netip.ParseAddrPort(observed)
		obs = unmapped(obs)
		if len(got) > maxPunchAddrs {
			t.Fatalf("%d targets", len(got))
		}
		kept := 0
		for i, ap := range got {
			if i == 0 && err == nil && ap == obs {
				continue
			}
			if !onSubnet(ap.Addr(), subnets) && !(err == nil && ap.Addr() == obs.Addr() && ap.Addr().IsGlobalUnicast()) {
				t.Fatalf("target %s is neither observed (%q), on a subnet, nor on the observed public IP", ap, observed)
			}
			kept++
		}
		dupes := 0
		for _, a := range plan.Addrs {
			if ap, perr := netip.ParseAddrPort(a); err == nil && perr == nil && unmapped(ap) == obs {
				dupes++
			}
		}
		if kept+dupes+int(cl.sent.addrsRefused.Load()) != len(plan.Addrs) {
			t.Fatalf("%d claims: %d kept, %d the observed one, %d counted as left out", len(plan.Addrs), kept, dupes, cl.sent.addrsRefused.Load())
		}
	})
}
