package bench

import (
	"slices"
	"time"
)

// Report holds the figures of one run.
type Report struct {
	// Setups are the per-setup figures, in the order of Options.Setups.
	Setups []SetupResult
	// LatencySizes and ThroughputSizes are the payload sizes measured, in
	// the order of every SetupResult's Latency and Throughput.
	LatencySizes, ThroughputSizes []int
	// Extras are the figures returned by Options.Extras, merged.
	Extras map[string]float64
	// Quick reports a run in quick mode.
	Quick bool
	// Elapsed is the run's wall-clock time.
	Elapsed time.Duration
}

// SetupResult is the figures of one setup.
type SetupResult struct {
	// Name is the setup's name.
	Name string
	// Latency has one entry per Report.LatencySizes.
	Latency []LatencyResult
	// Throughput has one entry per Report.ThroughputSizes.
	Throughput []ThroughputResult
}

// Target is the setup the ratios describe: the last one, peerbridge when
// the lead's setup (c) is included.
func (r *Report) Target() string {
	if len(r.Setups) == 0 {
		return ""
	}
	return r.Setups[len(r.Setups)-1].Name
}

// Baselines are the setups present, other than the target, that ratios are
// taken against: "leaf" and "nats", in that order.
func (r *Report) Baselines() []string {
	var out []string
	for _, b := range []string{LeafName, NATSName} {
		if b != r.Target() && r.setup(b) != nil {
			out = append(out, b)
		}
	}
	return out
}

// RRP50Ratio is the target's request-reply p50 latency over baseline's,
// at the smallest payload size (above 1: the target is slower). ok is false
// when either figure is missing or baseline is the target.
func (r *Report) RRP50Ratio(baseline string) (ratio float64, ok bool) {
	return r.ratio(baseline, func(s *SetupResult) float64 { return r.headLatency(s).P50 })
}

// RRP99Ratio is RRP50Ratio for the 99th percentile.
func (r *Report) RRP99Ratio(baseline string) (ratio float64, ok bool) {
	return r.ratio(baseline, func(s *SetupResult) float64 { return r.headLatency(s).P99 })
}

// ThroughputRatio is the target's fire-and-forget messages per second over
// baseline's, at the smallest payload size (below 1: the target is
// slower). ok is false when either figure is missing or baseline is the
// target.
func (r *Report) ThroughputRatio(baseline string) (ratio float64, ok bool) {
	return r.ratio(baseline, func(s *SetupResult) float64 { return r.headThroughput(s).MsgsPerSec })
}

// ratio is fig(target)/fig(baseline) when both are positive.
func (r *Report) ratio(baseline string, fig func(*SetupResult) float64) (float64, bool) {
	t, b := r.setup(r.Target()), r.setup(baseline)
	if t == nil || b == nil || t == b {
		return 0, false
	}
	num, den := fig(t), fig(b)
	if num <= 0 || den <= 0 {
		return 0, false
	}
	return num / den, true
}

// setup finds a setup's figures by name, or nil.
func (r *Report) setup(name string) *SetupResult {
	for i := range r.Setups {
		if r.Setups[i].Name == name {
			return &r.Setups[i]
		}
	}
	return nil
}

// headLatency is s's latency at the smallest payload size, zero if absent.
func (r *Report) headLatency(s *SetupResult) LatencyResult {
	i := indexOfMin(r.LatencySizes)
	if i < 0 || i >= len(s.Latency) {
		return LatencyResult{}
	}
	return s.Latency[i]
}

// headThroughput is s's throughput at the smallest payload size, zero if
// absent.
func (r *Report) headThroughput(s *SetupResult) ThroughputResult {
	i := indexOfMin(r.ThroughputSizes)
	if i < 0 || i >= len(s.Throughput) {
		return ThroughputResult{}
	}
	return s.Throughput[i]
}

// indexOfMin is the index of the smallest element, -1 for none.
func indexOfMin(xs []int) int {
	if len(xs) == 0 {
		return -1
	}
	return slices.Index(xs, slices.Min(xs))
}
