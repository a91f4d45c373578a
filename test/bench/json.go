package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
)

// WriteJSON writes the report as one indented JSON object. Figures per
// setup are objects keyed by setup name; "rr_p50_us" and friends without a
// size in the key are at the smallest payload size; ratios (target over
// baseline) are null when not measured; extras' figures sit at the top
// level. See the package documentation for the keys.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r.jsonObject()); err != nil {
		return fmt.Errorf("bench: writing JSON: %w", err)
	}
	return nil
}

// jsonObject is the report's JSON object, extras included.
func (r *Report) jsonObject() map[string]any {
	obj := r.baseJSON()
	for k, v := range r.Extras {
		if _, taken := obj[k]; !taken {
			obj[k] = number(v)
		}
	}
	return obj
}

// baseJSON is the report's JSON object without extras.
func (r *Report) baseJSON() map[string]any {
	names := make([]string, len(r.Setups))
	for i, s := range r.Setups {
		names[i] = s.Name
	}
	obj := map[string]any{
		"setups":       names,
		"ratio_target": r.Target(),
		"quick":        r.Quick,
		"elapsed_s":    r.Elapsed.Seconds(),
	}
	r.addLatencyJSON(obj)
	r.addThroughputJSON(obj)
	return obj
}

// addLatencyJSON adds the request-reply keys.
func (r *Report) addLatencyJSON(obj map[string]any) {
	head := func(f func(LatencyResult) float64) map[string]any {
		return r.perSetup(func(s *SetupResult) any { return number(f(r.headLatency(s))) })
	}
	if i := indexOfMin(r.LatencySizes); i >= 0 {
		obj["rr_size_bytes"] = r.LatencySizes[i]
	}
	obj["rr_p50_us"] = head(func(l LatencyResult) float64 { return l.P50 })
	obj["rr_p90_us"] = head(func(l LatencyResult) float64 { return l.P90 })
	obj["rr_p99_us"] = head(func(l LatencyResult) float64 { return l.P99 })
	for i, size := range r.LatencySizes {
		at := func(f func(LatencyResult) any) map[string]any {
			return r.perSetup(func(s *SetupResult) any { return f(s.Latency[i]) })
		}
		p := "rr_" + sizeLabel(size) + "_"
		obj[p+"p50_us"] = at(func(l LatencyResult) any { return number(l.P50) })
		obj[p+"p90_us"] = at(func(l LatencyResult) any { return number(l.P90) })
		obj[p+"p99_us"] = at(func(l LatencyResult) any { return number(l.P99) })
		obj[p+"mean_us"] = at(func(l LatencyResult) any { return number(l.Mean) })
		obj[p+"max_us"] = at(func(l LatencyResult) any { return number(l.Max) })
		obj[p+"count"] = at(func(l LatencyResult) any { return l.Count })
		obj[p+"errors"] = at(func(l LatencyResult) any { return l.Errors })
	}
	for _, b := range []string{LeafName, NATSName} {
		obj["rr_p50_ratio_vs_"+b] = optional(r.RRP50Ratio(b))
		obj["rr_p99_ratio_vs_"+b] = optional(r.RRP99Ratio(b))
	}
}

// addThroughputJSON adds the fire-and-forget keys.
func (r *Report) addThroughputJSON(obj map[string]any) {
	if i := indexOfMin(r.ThroughputSizes); i >= 0 {
		obj["throughput_size_bytes"] = r.ThroughputSizes[i]
	}
	obj["throughput_msgs_per_s"] = r.perSetup(func(s *SetupResult) any {
		return number(r.headThroughput(s).MsgsPerSec)
	})
	obj["throughput_lost"] = r.perSetup(func(s *SetupResult) any {
		var lost int64
		for _, t := range s.Throughput {
			lost += t.Lost
		}
		return lost
	})
	for i, size := range r.ThroughputSizes {
		at := func(f func(ThroughputResult) any) map[string]any {
			return r.perSetup(func(s *SetupResult) any { return f(s.Throughput[i]) })
		}
		p := "tput_" + sizeLabel(size) + "_"
		obj[p+"msgs_per_s"] = at(func(t ThroughputResult) any { return number(t.MsgsPerSec) })
		obj[p+"mb_per_s"] = at(func(t ThroughputResult) any { return number(t.MBPerSec) })
		obj[p+"sent"] = at(func(t ThroughputResult) any { return t.Sent })
		obj[p+"received"] = at(func(t ThroughputResult) any { return t.Received })
		obj[p+"lost"] = at(func(t ThroughputResult) any { return t.Lost })
		obj[p+"dropped"] = at(func(t ThroughputResult) any { return t.Dropped })
		obj[p+"stalled"] = at(func(t ThroughputResult) any { return t.Stalled })
	}
	for _, b := range []string{LeafName, NATSName} {
		obj["throughput_ratio_vs_"+b] = optional(r.ThroughputRatio(b))
	}
}

// perSetup maps every setup's name to f of its figures.
func (r *Report) perSetup(f func(*SetupResult) any) map[string]any {
	m := make(map[string]any, len(r.Setups))
	for i := range r.Setups {
		m[r.Setups[i].Name] = f(&r.Setups[i])
	}
	return m
}

// number is v, or nil (JSON null) for values JSON cannot hold.
func number(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// optional is v when ok, else nil (JSON null).
func optional(v float64, ok bool) any {
	if !ok {
		return nil
	}
	return number(v)
}

// sizeLabel names a payload size in keys and rows: "128b", "16k".
func sizeLabel(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%dk", n>>10)
	}
	return fmt.Sprintf("%db", n)
}
