package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/peerbridge/peerbridge/test/bench"
)

// serveIdlePeersFlag runs this binary as the idle peers' child process of
// the memory figure; bench.CommandIdlePeers appends its value, the number
// of peers. It is not listed in --help.
const serveIdlePeersFlag = "serve-idle-peers"

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("peerbridge bench", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "small counts: the whole run takes under a minute")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object instead of a table")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE`")
	memProfile := fs.String("memprofile", "", "write a heap profile at the end of the run to `FILE`")
	idlePeers := fs.Int(serveIdlePeersFlag, 0, "")
	fs.Usage = func() { benchUsage(fs, stderr) }
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *idlePeers > 0 {
		return bench.ServeIdlePeers(ctx, *idlePeers, os.Stdin, stdout)
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	opts, err := benchOptions(*quick, *asJSON)
	if err != nil {
		return err
	}
	if _, err := bench.Run(ctx, opts, stdout, stderr); err != nil {
		return err
	}
	if *memProfile != "" {
		return writeHeapProfile(*memProfile)
	}
	return nil
}

func benchUsage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprint(w, `Usage: peerbridge bench [--quick] [--json]

Sets up, on loopback, (a) one nats-server, (b) two nats-servers joined by a
leaf node and (c) two nats-servers each with a peerbridge, joined over QUIC,
and measures them side by side: request-reply latency, fire-and-forget
throughput, and for peerbridge pooled vs fresh-dial sends, fan-out to 20
peers, head of line (p99 of sends to a healthy peer while 20 sends to a
black-hole peer are pending, as a ratio to the same without them:
hol_p99_ratio) and memory per idle pooled peer. Prints a table with peerbridge's
figures as ratios to the leaf node and to plain NATS. Progress goes to
stderr. The default run takes a few minutes, --quick under one.

Flags:
`)
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == serveIdlePeersFlag {
			return
		}
		name, usage := flag.UnquoteUsage(f)
		if name != "" {
			name = " " + name
		}
		fmt.Fprintf(w, "  --%s%s\n    \t%s\n", f.Name, name, usage)
	})
}

// benchOptions are the run's options: all three setups, and the extras
// with the idle peers in a child process of this binary.
func benchOptions(quick, asJSON bool) (bench.Options, error) {
	self, err := os.Executable()
	if err != nil {
		return bench.Options{}, fmt.Errorf("finding this executable for the idle peers: %w", err)
	}
	extras := bench.PeerbridgeExtras(bench.ExtraOptions{
		Quick:          quick,
		StartIdlePeers: bench.CommandIdlePeers(self, "bench", "--"+serveIdlePeersFlag),
	})
	return bench.Options{
		Setups: []bench.SetupFunc{bench.NewNATSSetup, bench.NewLeafSetup, bench.NewPeerbridgeSetup},
		Extras: extras,
		Quick:  quick,
		JSON:   asJSON,
	}, nil
}

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(pprof.WriteHeapProfile(f), f.Close())
}
