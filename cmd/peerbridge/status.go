package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/modules"
	"github.com/peerbridge/peerbridge/modules/status"
)

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("peerbridge status", flag.ContinueOnError)
	url := fs.String("nats-url", "nats://"+modules.DefaultNATSListen, "NATS `URL` the bridges use (env NATS_URL)")
	asJSON := fs.Bool("json", false, "print JSON instead of tables")
	wait := fs.Duration("wait", time.Second, "how long to wait for bridges to answer, e.g. 2s")
	creds := fs.String("nats-creds", "", "credentials `FILE` for the NATS")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: peerbridge status [--nats-url URL] [--json]\n\nFinds every bridge on a NATS through its peerbridge micro service and\nprints its node ID and a table of its peers.")
		printFlags(stderr, fs, statusFlagGroups()...)
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if err := applyConfig(fs, "", os.LookupEnv); err != nil {
		return err
	}
	if *wait <= 0 {
		return &usageError{fmt.Errorf("--wait %v: must be positive, e.g. 1s", *wait)}
	}
	opts := []nats.Option{nats.Name("peerbridge status"), nats.Timeout(*wait)}
	if *creds != "" {
		opts = append(opts, nats.UserCredentials(*creds))
	}
	nc, err := nats.Connect(*url, opts...)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", *url, err)
	}
	defer nc.Close()
	dctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	bridges, err := status.Discover(dctx, nc)
	if err != nil {
		return fmt.Errorf("%w on %s", err, *url)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(bridges)
	}
	return status.WriteTable(stdout, bridges)
}

// statusFlagGroups are the groups of 'peerbridge status --help'.
func statusFlagGroups() []flagGroup {
	return []flagGroup{
		{"NATS", "peerbridge status --nats-url nats://127.0.0.1:4222 --nats-creds user.creds --wait 2s",
			[]string{"nats-url", "nats-creds", "wait"}},
		{"Output", "peerbridge status --json", []string{"json"}},
	}
}
