package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Run creates every setup in opts.Setups, runs each scenario on every
// setup in turn (request-reply latency per size, then fire-and-forget
// throughput per size, each one setup after another so the setups are
// measured side by side), closes the setups, runs the extras, and writes
// the report to out: a table, or JSON when opts.JSON (nil out writes
// nothing). progress receives one line per step (nil discards them).
//
// On error the report holds what was measured before it (nil if the
// options are invalid or a setup could not be created) and nothing is
// written to out.
func Run(ctx context.Context, opts Options, out, progress io.Writer) (*Report, error) {
	start := time.Now()
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	steps := len(o.Setups)*(1+len(o.LatencySizes)+len(o.ThroughputSizes)) + len(o.Extras)
	p := newProgress(progress, steps)
	setups, err := startSetups(ctx, o, p)
	if err != nil {
		return nil, err
	}
	rep := newReport(o, setups)
	err = runScenarios(ctx, o, setups, rep, p)
	if cerr := closeSetups(setups); err == nil {
		err = cerr
	}
	if err == nil {
		err = runExtras(ctx, o, rep, p)
	}
	rep.Elapsed = time.Since(start)
	if err != nil {
		return rep, err
	}
	return rep, rep.write(out, o.JSON)
}

// startSetups creates the setups in order; on failure it closes those
// already created.
func startSetups(ctx context.Context, o Options, p *progress) ([]Setup, error) {
	var setups []Setup
	names := map[string]bool{}
	for i, f := range o.Setups {
		p.begin("creating setup #%d", i+1)
		sctx, cancel := context.WithTimeout(ctx, o.SetupTimeout)
		s, err := f(sctx)
		cancel()
		if err == nil && s == nil {
			err = fmt.Errorf("bench: setup #%d: no setup and no error", i+1)
		}
		if err == nil && names[s.Name()] {
			err = errors.Join(fmt.Errorf("bench: two setups named %q", s.Name()), s.Close())
		}
		if err != nil {
			return nil, errors.Join(err, closeSetups(setups))
		}
		names[s.Name()] = true
		setups = append(setups, s)
		p.line("%s: ready", s.Name())
	}
	return setups, nil
}

// closeSetups closes every setup, joining their errors.
func closeSetups(setups []Setup) error {
	var errs []error
	for _, s := range setups {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("bench: closing %s: %w", s.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// newReport is an empty report for the setups and sizes of o.
func newReport(o Options, setups []Setup) *Report {
	rep := &Report{
		LatencySizes:    o.LatencySizes,
		ThroughputSizes: o.ThroughputSizes,
		Quick:           o.Quick,
	}
	for _, s := range setups {
		rep.Setups = append(rep.Setups, SetupResult{Name: s.Name()})
	}
	return rep
}

// runScenarios runs every scenario on every setup, filling in rep.
func runScenarios(ctx context.Context, o Options, setups []Setup, rep *Report, p *progress) error {
	for _, size := range o.LatencySizes {
		for i, s := range setups {
			p.begin("%s: request-reply %s", s.Name(), sizeLabel(size))
			res, err := runLatency(ctx, s, size, o)
			if err != nil {
				return fmt.Errorf("bench: %s: request-reply %s: %w", s.Name(), sizeLabel(size), err)
			}
			rep.Setups[i].Latency = append(rep.Setups[i].Latency, res)
			p.line("%s: request-reply %s: p50 %.1fus p90 %.1fus p99 %.1fus over %d requests, %d errors",
				s.Name(), sizeLabel(size), res.P50, res.P90, res.P99, res.Count, res.Errors)
		}
	}
	for _, size := range o.ThroughputSizes {
		for i, s := range setups {
			p.begin("%s: send %s", s.Name(), sizeLabel(size))
			res, err := runThroughput(ctx, s, size, o)
			if err != nil {
				return fmt.Errorf("bench: %s: send %s: %w", s.Name(), sizeLabel(size), err)
			}
			rep.Setups[i].Throughput = append(rep.Setups[i].Throughput, res)
			p.line("%s: send %s: %.0f msg/s, %.1f MB/s, %d of %d lost",
				s.Name(), sizeLabel(size), res.MsgsPerSec, res.MBPerSec, res.Lost, res.Sent)
		}
	}
	return nil
}

// runExtras runs the extra benchmarks and merges their figures into rep,
// refusing names already taken.
func runExtras(ctx context.Context, o Options, rep *Report, p *progress) error {
	taken := rep.baseJSON()
	rep.Extras = map[string]float64{}
	for i, extra := range o.Extras {
		p.begin("extra #%d", i+1)
		figures, err := extra(ctx, func(s string) { p.line("extra #%d: %s", i+1, s) })
		if err != nil {
			return fmt.Errorf("bench: extra #%d: %w", i+1, err)
		}
		for k, v := range figures {
			if _, dup := taken[k]; dup {
				return fmt.Errorf("bench: extra #%d: figure %q is already in the report", i+1, k)
			}
			taken[k] = v
			rep.Extras[k] = v
		}
	}
	return nil
}

// write writes the report to out as JSON or a table; nil out is a no-op.
func (r *Report) write(out io.Writer, asJSON bool) error {
	switch {
	case out == nil:
		return nil
	case asJSON:
		return r.WriteJSON(out)
	default:
		return r.WriteTable(out)
	}
}
