package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// row is one line of the table: a label, one cell per setup, and whether
// the ratio columns apply (lower is better for latency, higher for
// throughput; the ratio is always target over baseline).
type row struct {
	label  string
	cell   func(*SetupResult) float64
	format string
	ratio  bool
}

// WriteTable writes the report as a text table: one row per scenario
// figure, one column per setup, then one ratio column (target over
// baseline) per baseline, then the extras' figures.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := []string{"scenario"}
	for _, s := range r.Setups {
		header = append(header, s.Name)
	}
	for _, b := range r.Baselines() {
		header = append(header, r.Target()+"/"+b)
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, rw := range r.rows() {
		fmt.Fprintln(tw, strings.Join(r.cells(rw), "\t"))
	}
	if len(r.Extras) > 0 {
		fmt.Fprintln(tw, "\t")
		for _, k := range slices.Sorted(maps.Keys(r.Extras)) {
			fmt.Fprintf(tw, "%s\t%.4g\n", k, r.Extras[k])
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("bench: writing table: %w", err)
	}
	return nil
}

// cells renders one row.
func (r *Report) cells(rw row) []string {
	out := []string{rw.label}
	for i := range r.Setups {
		out = append(out, fmt.Sprintf(rw.format, rw.cell(&r.Setups[i])))
	}
	for _, b := range r.Baselines() {
		ratio, ok := r.ratio(b, rw.cell)
		switch {
		case !rw.ratio || !ok:
			out = append(out, "-")
		default:
			out = append(out, fmt.Sprintf("%.2fx", ratio))
		}
	}
	return out
}

// rows lists the table's rows: latency percentiles per size, then
// throughput and loss per size.
func (r *Report) rows() []row {
	var rows []row
	for i, size := range r.LatencySizes {
		lat := func(f func(LatencyResult) float64) func(*SetupResult) float64 {
			return func(s *SetupResult) float64 { return f(s.Latency[i]) }
		}
		l := "rr " + sizeLabel(size)
		rows = append(rows,
			row{l + " p50 (us)", lat(func(x LatencyResult) float64 { return x.P50 }), "%.1f", true},
			row{l + " p90 (us)", lat(func(x LatencyResult) float64 { return x.P90 }), "%.1f", true},
			row{l + " p99 (us)", lat(func(x LatencyResult) float64 { return x.P99 }), "%.1f", true},
			row{l + " errors", lat(func(x LatencyResult) float64 { return float64(x.Errors) }), "%.0f", false},
		)
	}
	for i, size := range r.ThroughputSizes {
		tp := func(f func(ThroughputResult) float64) func(*SetupResult) float64 {
			return func(s *SetupResult) float64 { return f(s.Throughput[i]) }
		}
		l := "send " + sizeLabel(size)
		rows = append(rows,
			row{l + " (msg/s)", tp(func(x ThroughputResult) float64 { return x.MsgsPerSec }), "%.0f", true},
			row{l + " (MB/s)", tp(func(x ThroughputResult) float64 { return x.MBPerSec }), "%.1f", true},
			row{l + " lost", tp(func(x ThroughputResult) float64 { return float64(x.Lost) }), "%.0f", false},
		)
	}
	return rows
}
