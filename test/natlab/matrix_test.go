package natlab_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/test/natlab"
)

const (
	// firstReplyWait bounds the first request of a pair, NAT traversal
	// included: direct dial, hole punch and relay set-up.
	firstReplyWait = 30 * time.Second
	// laterRequests is how many more requests each side sends once the
	// first reply is in; they must all take the final path.
	laterRequests = 3
)

// cgnatHome is a site of the matrix that is no single NAT kind: a
// port-restricted home router behind a carrier-grade NAT that maps
// endpoint-independently and filters by address and port, as RFC 6888
// asks of carrier NATs.
const cgnatHome natlab.Kind = "cgnat-home"

// kinds are the sites of the matrix, easiest first.
var kinds = []natlab.Kind{natlab.None, natlab.FullCone, natlab.PortRestricted, natlab.DockerHost, cgnatHome, natlab.Symmetric}

// addSite adds a host named name behind a new site of kind k, whose
// routers are named after prefix.
func addSite(lab *natlab.Lab, prefix, name string, k natlab.Kind) *natlab.Host {
	if k == cgnatHome {
		return lab.AddNAT(prefix+"-cg", natlab.PortRestricted).AddNAT(prefix+"-h", natlab.PortRestricted).AddHost(name)
	}
	return lab.AddNAT(prefix, k).AddHost(name)
}

// mustRelay reports whether no direct path can exist between two kinds:
// a symmetric NAT's mapping toward a peer is unknown in advance, so only a
// peer that admits anyone (none, full cone) can take its packets.
func mustRelay(a, b natlab.Kind) bool {
	hard := func(k natlab.Kind) bool {
		return k == natlab.PortRestricted || k == natlab.DockerHost || k == cgnatHome || k == natlab.Symmetric
	}
	return (a == natlab.Symmetric && hard(b)) || (b == natlab.Symmetric && hard(a))
}

// pairResult is one row of the matrix.
type pairResult struct {
	a, b    natlab.Kind
	pathAB  string // Peer-Path of a's requests to b once settled
	pathBA  string
	firstAB time.Duration // time to a's first reply from b
	firstBA time.Duration
	want    string
	err     error
	remote  netip.AddrPort // where a's connection to b ends, once settled (invalid if relayed)
}

// matrixPair is one pair's lab hosts, made on the test's goroutine.
type matrixPair struct {
	a, b   natlab.Kind
	ha, hb *natlab.Host
	want   string // the paths expected; "" means as mustRelay says
}

// TestMatrix connects a bridge behind every kind of NAT with one behind
// every other kind, through a gateway with two public addresses, and sends
// NATS requests both ways naming only the far node's ID: a's first, so that
// a does the NAT traversal, then b's.
func TestMatrix(t *testing.T) {
	table := runMatrix(t, false)
	if f := os.Getenv("PEERBRIDGE_NATLAB_TABLE"); f != "" {
		if err := os.WriteFile(f, []byte(table), 0o644); err != nil {
			t.Errorf("writing the table: %v", err)
		}
	}
}

// TestMatrixTogether is TestMatrix with both sides sending their first
// request at the same moment, so both traverse at once.
func TestMatrixTogether(t *testing.T) {
	runMatrix(t, true)
}

// TestMatrixLossy is TestMatrix with every bridge's host losing 5% of the
// packets it sends and 5% of those it receives.
func TestMatrixLossy(t *testing.T) {
	runLossyMatrix(t, false, 5)
}

// TestMatrixWAN is TestMatrix across a wired lab: every link to the
// public segment delays each packet by 10 ms plus up to 5 ms of jitter, so
// a pair's round trip is 40 ms with up to 20 ms of jitter, as across a
// country.
func TestMatrixWAN(t *testing.T) {
	table := runLossyMatrix(t, false, 0, natlab.WithWire(wanWire))
	if f := os.Getenv("PEERBRIDGE_NATLAB_WAN_TABLE"); f != "" {
		if err := os.WriteFile(f, []byte(table), 0o644); err != nil {
			t.Errorf("writing the table: %v", err)
		}
	}
}

// wanWire is the wire of TestMatrixWAN's links.
var wanWire = natlab.Wire{Delay: 10 * time.Millisecond, Jitter: 5 * time.Millisecond}

// runMatrix runs every pair of kinds in parallel in one lab and returns
// the table of results.
func runMatrix(t *testing.T, together bool) string {
	return runLossyMatrix(t, together, 0)
}

// runLossyMatrix is runMatrix with every bridge's host losing loss per cent
// of the packets it sends and, separately, of those it receives, in a lab
// made with opts.
func runLossyMatrix(t *testing.T, together bool, loss int, opts ...natlab.Option) string {
	lab := natlab.New(t, opts...)
	g := startGateway(t, lab.AddPublicHost("gw", 2))
	var pairs []matrixPair
	for i, ka := range kinds {
		for j, kb := range kinds[i:] {
			n := fmt.Sprintf("m%d%d", i, i+j)
			pairs = append(pairs, matrixPair{
				a: ka, b: kb,
				ha: addSite(lab, n+"-na", n+"-a", ka),
				hb: addSite(lab, n+"-nb", n+"-b", kb),
			})
			for _, h := range []*natlab.Host{pairs[len(pairs)-1].ha, pairs[len(pairs)-1].hb} {
				if err := h.SetLoss(loss); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	pairs = append(pairs, mappedPairs(t, lab)...) // portmap
	var mu sync.Mutex
	var results []pairResult
	t.Run("pairs", func(t *testing.T) {
		for _, pr := range pairs {
			t.Run(string(pr.a)+"/"+string(pr.b), func(t *testing.T) {
				t.Parallel()
				res := runPair(t, pr, peerConfig(g), together)
				mu.Lock()
				results = append(results, res)
				mu.Unlock()
			})
		}
	})
	if len(results) != len(pairs) {
		t.Errorf("%d pairs reported, want %d", len(results), len(pairs))
	}
	table := matrixTable(results)
	t.Logf("NAT matrix:\n%s", table)
	return table
}

// runPair starts a peer on each host of pr, has each send a first request
// to the other (a first, or both at the same moment if together), then
// laterRequests more each way, and checks every reply and its path.
func runPair(t *testing.T, pr matrixPair, cfg natpunch.ClientConfig, together bool) pairResult {
	res := pairResult{a: pr.a, b: pr.b, want: "direct|punched"}
	if mustRelay(pr.a, pr.b) {
		res.want = "relayed"
	}
	if pr.want != "" { // ipv6: pairs that IPv6 lets meet without the relay
		res.want = pr.want
	}
	a := startPeer(t, "a-"+string(pr.a), pr.ha, withPortMap(cfg, pr.a, pr.ha))
	b := startPeer(t, "b-"+string(pr.b), pr.hb, withPortMap(cfg, pr.b, pr.hb))
	awaitPortMaps(t, pr, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), firstReplyWait)
	defer cancel()
	var ab, ba answer
	var errAB, errBA error
	if together {
		var wg sync.WaitGroup
		wg.Go(func() { ab, errAB = a.ask(ctx, b, "first") })
		wg.Go(func() { ba, errBA = b.ask(ctx, a, "first") })
		wg.Wait()
	} else {
		ab, errAB = a.ask(ctx, b, "first")
		ba, errBA = b.ask(ctx, a, "first")
	}
	res.firstAB, res.firstBA = ab.took, ba.took
	if errAB != nil || errBA != nil {
		res.err = fmt.Errorf("%w; %w", errAB, errBA)
		t.Errorf("first requests: %v", res.err)
		return res
	}
	for i := range laterRequests {
		for _, dir := range []struct {
			from, to *peer
			path     *string
		}{{a, b, &res.pathAB}, {b, a, &res.pathBA}} {
			got, err := dir.from.ask(ctx, dir.to, fmt.Sprint("later ", i))
			if err != nil {
				res.err = err
				t.Error(err)
				return res
			}
			*dir.path = got.path
		}
	}
	res.remote = remoteTo(a, b) // ipv6: which family a direct path runs over
	for _, p := range []string{res.pathAB, res.pathBA} {
		if !strings.Contains(res.want, p) || p == "" {
			t.Errorf("%s/%s: path %q, want %s", pr.a, pr.b, p, res.want)
		}
	}
	return res
}

// matrixTable renders results as a text table in the order of kinds.
func matrixTable(results []pairResult) string {
	order := func(k natlab.Kind) int {
		for i, kk := range kinds {
			if kk == k {
				return i
			}
		}
		return len(kinds)
	}
	sorted := append([]pairResult(nil), results...)
	for i := range sorted {
		for j := i + 1; j < len(sorted); j++ {
			ki, kj := order(sorted[i].a)*10+order(sorted[i].b), order(sorted[j].a)*10+order(sorted[j].b)
			if kj < ki {
				sorted[i], sorted[j] = sorted[j], sorted[i]
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| %-33s | %-8s | %-8s | %-14s | %-10s | %-10s |\n", "pair (a / b)", "a → b", "b → a", "expected", "1st a → b", "1st b → a")
	fmt.Fprintf(&b, "|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 35), strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 16), strings.Repeat("-", 12), strings.Repeat("-", 12))
	for _, r := range sorted {
		ab, ba := r.pathAB, r.pathBA
		if r.err != nil {
			ab, ba = "FAILED", "FAILED"
		}
		fmt.Fprintf(&b, "| %-33s | %-8s | %-8s | %-14s | %10s | %10s |\n",
			string(r.a)+" / "+string(r.b), ab, ba, r.want,
			roundMs(r.firstAB), roundMs(r.firstBA))
	}
	b.WriteString(directRate(results))
	return b.String()
}

// directRate renders the share of pairs that found a path without the
// relay, both ways, as iroh and Tailscale count it: of all pairs, and, when
// some pairs have a side with port mapping or IPv6, of those pairs and of
// the others apart (issue 22: the rate with and without them).
func directRate(results []pairResult) string {
	if len(results) == 0 {
		return ""
	}
	var with, without []pairResult
	for _, r := range results {
		if helped(r.a) || helped(r.b) {
			with = append(with, r)
		} else {
			without = append(without, r)
		}
	}
	out := "\ndirect rate: " + rateOf(results) + " pairs direct or punched"
	if len(with) > 0 {
		out += "; with port mapping or IPv6 on a side: " + rateOf(with) + "; without: " + rateOf(without)
	}
	return out + "\n"
}

// helped reports whether a side of kind k has port mapping or IPv6.
func helped(k natlab.Kind) bool {
	return k == natlab.Mapped || strings.HasSuffix(string(k), "/v6")
}

// rateOf renders how many of results went without the relay both ways.
func rateOf(results []pairResult) string {
	direct := 0
	for _, r := range results {
		if r.err == nil && r.pathAB != "relayed" && r.pathBA != "relayed" {
			direct++
		}
	}
	if len(results) == 0 {
		return "0 of 0"
	}
	return fmt.Sprintf("%d of %d (%.0f%%)", direct, len(results), 100*float64(direct)/float64(len(results)))
}

// roundMs renders d to the millisecond, or as "<1ms".
func roundMs(d time.Duration) string {
	if d < time.Millisecond {
		return "<1ms"
	}
	return d.Round(time.Millisecond).String()
}
