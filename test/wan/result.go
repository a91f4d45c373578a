package wan

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Result is one run of the scenario: both systems under the same load.
type Result struct {
	// Options are the options the run used, defaults filled in.
	Options Options `json:"options"`
	// Systems are the leaf link's results and the bridges', in that order.
	Systems []SystemResult `json:"systems"`
	// Relay are A's bridge's relay counters after the run, when it had a
	// gateway.
	Relay *RelayCounts `json:"relay,omitempty"`
}

// RelayCounts are one bridge's relay counters: relayed packets it took in
// and those it dropped (its queue full, or no such session).
type RelayCounts struct {
	Delivered uint64 `json:"delivered"`
	Dropped   uint64 `json:"dropped"`
}

// SystemResult is what one system did.
type SystemResult struct {
	System   string        `json:"system"`
	Requests RequestResult `json:"request_reply"`
	Blast    BlastResult   `json:"fire_and_forget"`
	// Burst is Options.Burst's messages published without a window, if set.
	Burst *BlastResult `json:"burst,omitempty"`
}

// Ratios compares the bridges with the leaf link: the bridge's p99 over
// the leaf's (issue 14's target: at most 0.7) and its fire-and-forget rate
// over the leaf's (target: at least 1). A ratio with a zero denominator is
// 0.
type Ratios struct {
	P99        float64 `json:"bridge_over_leaf_p99"`
	RequestSec float64 `json:"bridge_over_leaf_rr_per_sec"`
	BlastSec   float64 `json:"bridge_over_leaf_ff_per_sec"`
}

// Ratios returns the bridge-over-leaf ratios of r.
func (r Result) Ratios() Ratios {
	leaf, br, ok := r.pair()
	if !ok {
		return Ratios{}
	}
	return Ratios{
		P99:        ratio(br.Requests.P99, leaf.Requests.P99),
		RequestSec: ratio(br.Requests.PerSec, leaf.Requests.PerSec),
		BlastSec:   ratio(br.Blast.PerSec, leaf.Blast.PerSec),
	}
}

// pair returns the leaf's and the bridges' results.
func (r Result) pair() (leaf, br SystemResult, ok bool) {
	var haveLeaf, haveBridge bool
	for _, s := range r.Systems {
		switch s.System {
		case SystemLeaf:
			leaf, haveLeaf = s, true
		case SystemBridge:
			br, haveBridge = s, true
		}
	}
	return leaf, br, haveLeaf && haveBridge
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// WriteTable writes r as a table a person can read, under the title.
func (r Result) WriteTable(w io.Writer, title string) error {
	if _, err := fmt.Fprintln(w, title); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\trr/s\tp50 ms\tp99 ms\tmax ms\trr ok\trr errors\tf&f msg/s\tf&f sent\tf&f lost\tstalled\t")
	for _, s := range r.Systems {
		q, b := s.Requests, s.Blast
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f\t%.1f\t%.1f\t%d\t%d\t%.0f\t%d\t%d\t%t\t\n",
			s.System, q.PerSec, q.P50, q.P99, q.Max, q.OK, q.Errors, b.PerSec, b.Sent, b.Lost, b.Stalled)
	}
	if _, _, ok := r.pair(); !ok {
		return tw.Flush()
	}
	x := r.Ratios()
	fmt.Fprintf(tw, "bridge/leaf\t%.2f\t\t%.2f\t\t\t\t%.2f\t\t\t\t\n", x.RequestSec, x.P99, x.BlastSec)
	return tw.Flush()
}

// P50Ratio is the bridge's median request-reply latency over the leaf's,
// 0 without both.
func (r Result) P50Ratio() float64 {
	leaf, br, ok := r.pair()
	if !ok {
		return 0
	}
	return ratio(br.Requests.P50, leaf.Requests.P50)
}
