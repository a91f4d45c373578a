package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/peerbridge/peerbridge/test/bench"
)

// runAll runs the loopback setups, their extras and the WAN scenario as
// one more extra, then prints the WAN table under the report (or, with
// JSON, the line saying why it was skipped to stderr, keeping stdout one
// JSON object).
func runAll(ctx context.Context, w *bench.WAN, quick, asJSON bool, stdout, stderr io.Writer) error {
	opts, err := benchOptions(quick, asJSON)
	if err != nil {
		return err
	}
	opts.Extras = append(opts.Extras, w.Extra)
	if _, err := bench.Run(ctx, opts, stdout, stderr); err != nil {
		return err
	}
	return writeWAN(w, asJSON, stdout, stderr)
}

// runWANOnly runs only the WAN scenario and prints its table, or its
// figures as one JSON object.
func runWANOnly(ctx context.Context, w *bench.WAN, quick, asJSON bool, stdout, stderr io.Writer) error {
	figures, err := w.Extra(ctx, func(s string) { fmt.Fprintf(stderr, "bench: %s\n", s) })
	if err != nil {
		return err
	}
	if !asJSON {
		return w.WriteTable(stdout)
	}
	obj := map[string]any{"quick": quick}
	for k, v := range figures {
		obj[k] = v
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(obj); err != nil {
		return err
	}
	return writeWAN(w, true, stdout, stderr)
}

// writeWAN prints the WAN table after a table report, or only the skip
// line, to stderr, after a JSON one.
func writeWAN(w *bench.WAN, asJSON bool, stdout, stderr io.Writer) error {
	switch {
	case !asJSON:
		fmt.Fprintln(stdout)
		return w.WriteTable(stdout)
	case w.Skipped != "":
		return w.WriteTable(stderr)
	default:
		return nil
	}
}
