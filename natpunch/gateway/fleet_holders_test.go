package gateway

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// fakeFleet answers a count of holders with canned answers.
type fakeFleet struct {
	err     error  // Err's answer
	epoch   uint64 // Epoch's answer
	answers []wire.FleetAnswer
	askErr  error // AskAll's error once every answer is handed on
	asks    int
}

var _ Fleet = (*fakeFleet)(nil)

func (f *fakeFleet) Serve(FleetHandler) error   { return nil }
func (f *fakeFleet) Announce(identity.NodeID)   {}
func (f *fakeFleet) Withdraw(identity.NodeID)   {}
func (f *fakeFleet) Err() error                 { return f.err }
func (f *fakeFleet) Sync(context.Context) error { return nil }
func (f *fakeFleet) Epoch() uint64              { return f.epoch }

func (f *fakeFleet) Ask(context.Context, identity.NodeID, string, []byte) ([]byte, error) {
	return nil, ErrNotInFleet
}

func (f *fakeFleet) AskAll(_ context.Context, _ identity.NodeID, _ string, _ []byte, each func([]byte) bool) error {
	f.asks++
	for _, a := range f.answers {
		b, _ := wire.Encode(&a)
		if !each(b) {
			return nil
		}
	}
	return f.askErr
}

// TestRecheck: the check of a holding when its bridge refreshes, against
// the other holders a fake fleet reports, with 2 gateways per key. Holders
// rank oldest first, then by gateway ID; this gateway's own answer is not
// counted; a holding made out of the fleet's sight, or before NATS came
// back (another epoch), ranks anew from now; the check is made once, and
// failing to ask keeps the holding unchecked.
func TestRecheck(t *testing.T) {
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Listen: []string{"127.0.0.1:0"}, Limits: Limits{MaxGatewaysPerKey: 2}}, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	self := string(id.NodeID())
	t0 := time.Now().Add(-time.Minute)
	at := func(d time.Duration, home string) wire.FleetAnswer {
		return wire.FleetAnswer{Home: home, Since: t0.Add(d).UnixNano()}
	}
	lower, higher := "!", "~" // below and above every node ID
	mine := holding{since: t0, epoch: 1, inSight: true}
	for _, tc := range []struct {
		name        string
		fleet       fakeFleet
		held        holding
		wantRefused bool
		wantChecked bool
		wantAsks    int
		wantRerank  bool
	}{
		{"fleet lost: kept, not asked", fakeFleet{err: errors.New("down"), epoch: 1}, mine, false, false, 0, false},
		{"checked already: not asked", fakeFleet{epoch: 1, answers: []wire.FleetAnswer{at(-2, lower), at(-1, lower)}}, holding{since: t0, epoch: 1, inSight: true, checked: true}, false, true, 0, false},
		{"one before: kept and checked", fakeFleet{epoch: 1, answers: []wire.FleetAnswer{at(-1, lower), at(time.Second, lower)}}, mine, false, true, 1, false},
		{"two before: refused", fakeFleet{epoch: 1, answers: []wire.FleetAnswer{at(-2, higher), at(-1, higher)}}, mine, true, false, 1, false},
		{"a tie goes to the lower ID", fakeFleet{epoch: 1, answers: []wire.FleetAnswer{at(-1, lower), at(0, lower)}}, mine, true, false, 1, false},
		{"a tie with a higher ID counts not", fakeFleet{epoch: 1, answers: []wire.FleetAnswer{at(-1, lower), at(0, higher)}}, mine, false, true, 1, false},
		{"own answer counts not", fakeFleet{epoch: 1, answers: []wire.FleetAnswer{at(-2, self), at(-1, lower)}}, mine, false, true, 1, false},
		{"no answer in time: kept unchecked", fakeFleet{epoch: 1, answers: []wire.FleetAnswer{at(-1, lower)}, askErr: context.DeadlineExceeded}, mine, false, false, 1, false},
		{"made out of sight: ranks from now", fakeFleet{epoch: 1, answers: []wire.FleetAnswer{at(time.Second, lower), at(2*time.Second, lower)}}, holding{since: t0}, true, false, 1, true},
		{"another epoch: ranks from now", fakeFleet{epoch: 2, answers: []wire.FleetAnswer{at(time.Second, lower)}}, mine, false, false, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.fleet
			g.fleet = &f
			before := g.fs.heldElsewhere.Load()
			h, err := g.recheck(t.Context(), record{Record: wire.Record{ID: "node"}, rank: tc.held})
			var re *connector.RemoteError
			if refused := errors.As(err, &re) && re.Code == wire.CodeNotHeld; refused != tc.wantRefused || (err != nil && !refused) {
				t.Fatalf("recheck: %v, want refused %v", err, tc.wantRefused)
			}
			if counted := g.fs.heldElsewhere.Load() - before; counted != map[bool]uint64{true: 1}[tc.wantRefused] {
				t.Errorf("counted %d refusals", counted)
			}
			if h.checked != tc.wantChecked || f.asks != tc.wantAsks || (h.since != tc.held.since) != tc.wantRerank {
				t.Errorf("holding %+v after %d asks; want checked %v, %d asks, ranked anew %v", h, f.asks, tc.wantChecked, tc.wantAsks, tc.wantRerank)
			}
			if !h.inSight && tc.fleet.err == nil {
				t.Errorf("holding %+v is out of sight with the fleet up", h)
			}
		})
	}
}

// TestHolderAnswer: a holding made out of the fleet's sight, or in
// another epoch, answers a count as if it began now; one in sight
// answers when it began.
func TestHolderAnswer(t *testing.T) {
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Listen: []string{"127.0.0.1:0"}}, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	g.addrs = []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:9444")}
	g.fleet = &fakeFleet{epoch: 1}
	t0 := time.Now().Add(-time.Minute)
	for _, tc := range []struct {
		name    string
		held    holding
		wantNow bool
	}{
		{"in sight", holding{since: t0, epoch: 1, inSight: true}, false},
		{"out of sight", holding{since: t0}, true},
		{"another epoch", holding{since: t0, epoch: 0, inSight: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked := time.Now()
			ans := g.holderAnswer(record{Record: wire.Record{ID: "node", Observed: netip.MustParseAddrPort("198.51.100.7:4000")}, rank: tc.held})
			if now := ans.Since >= asked.UnixNano(); now != tc.wantNow || ans.Home != string(id.NodeID()) {
				t.Errorf("answered since %v by %s, want now %v", time.Unix(0, ans.Since), ans.Home, tc.wantNow)
			}
		})
	}
}
