package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"

	"github.com/peerbridge/peerbridge/test/bench"
	"github.com/peerbridge/peerbridge/test/natlab"
	"github.com/peerbridge/peerbridge/test/wan"
)

// serveIdlePeersFlag runs this binary as the idle peers' child process of
// the memory figure; bench.CommandIdlePeers appends its value, the number
// of peers. It is not listed in --help.
const serveIdlePeersFlag = "serve-idle-peers"

// wanHelperFlag runs this binary as one side of the WAN scenario inside a
// lab namespace, the role and what it needs in its environment (see
// wan.Play). It is not listed in --help.
const wanHelperFlag = "wan-helper"

// hiddenFlag reports whether --help leaves flag name out.
func hiddenFlag(name string) bool {
	return name == serveIdlePeersFlag || name == wanHelperFlag
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("peerbridge bench", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "small counts: the whole run takes under a minute")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object instead of a table")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE`")
	memProfile := fs.String("memprofile", "", "write a heap profile at the end of the run to `FILE`")
	wanOnly := fs.Bool("wan", false, "run only the WAN scenario (needs root and /dev/net/tun)")
	idlePeers := fs.Int(serveIdlePeersFlag, 0, "")
	wanHelper := fs.Bool(wanHelperFlag, false, "")
	fs.Usage = func() { benchUsage(fs, stderr) }
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *idlePeers > 0 {
		return bench.ServeIdlePeers(ctx, *idlePeers, os.Stdin, stdout)
	}
	if *wanHelper {
		return wan.Play(ctx, os.Getenv, os.Stdin, stdout)
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	w, err := wanScenario(*quick)
	if err != nil {
		return err
	}
	if *wanOnly {
		err = runWANOnly(ctx, w, *quick, *asJSON, stdout, stderr)
	} else {
		err = runAll(ctx, w, *quick, *asJSON, stdout, stderr)
	}
	if err != nil {
		return err
	}
	if *memProfile != "" {
		return writeHeapProfile(*memProfile)
	}
	return nil
}

// wanScenario is the WAN scenario, whose helpers are this binary run with
// --wan-helper inside the lab's namespaces.
func wanScenario(quick bool) (*bench.WAN, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this executable for the WAN helpers: %w", err)
	}
	command := func(ctx context.Context, host *natlab.Host) *exec.Cmd {
		return host.Command(ctx, self, "bench", "--"+wanHelperFlag)
	}
	return &bench.WAN{Quick: quick, Command: command}, nil
}

func benchUsage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprint(w, `Usage: peerbridge bench [--quick] [--json] [--wan]

Sets up, on loopback, (a) one nats-server, (b) two nats-servers joined by a
leaf node and (c) two nats-servers each with a peerbridge, joined over QUIC,
and measures them side by side: request-reply latency, fire-and-forget
throughput, and for peerbridge pooled vs fresh-dial sends, fan-out to 20
peers, head of line (p99 of sends to a healthy peer while 20 sends to a
black-hole peer are pending, as a ratio to the same without them:
hol_p99_ratio) and memory per idle pooled peer. Prints a table with peerbridge's
figures as ratios to the leaf node and to plain NATS. Progress goes to
stderr. The default run takes a few minutes, --quick under one.

Where it runs as root with /dev/net/tun, it also runs the WAN scenario
(--wan runs only that): two network namespaces joined by a simulated wire
of 40 ms RTT, without loss and with 1% loss each way, a leaf-node link and
two peerbridges across it, 16 concurrent requesters; it prints a second
table (request-reply p50/p99 and rate, fire-and-forget rate, bridge/leaf
ratios) and adds the wan_* JSON keys (wan_rr_p99_ratio_loss1,
wan_ff_ratio_loss1, ...; wan_ran is 0 when it was skipped). Elsewhere it
says in one line why the WAN scenario was skipped. It takes about a
minute (--quick: about 30 s).

Flags:
`)
	fs.VisitAll(func(f *flag.Flag) {
		if hiddenFlag(f.Name) {
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
