package main

import (
	"context"
	"errors"
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

// run runs the benchmark o asks for, or one of the child processes this
// binary re-executes itself as.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	if o.idlePeers > 0 {
		return bench.ServeIdlePeers(ctx, o.idlePeers, os.Stdin, stdout)
	}
	if o.wanHelper {
		return wan.Play(ctx, os.Getenv, os.Stdin, stdout)
	}
	if o.cpuProfile != "" {
		stop, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	w, err := wanScenario(o.quick)
	if err != nil {
		return err
	}
	if o.wanOnly {
		err = runWANOnly(ctx, w, o.quick, o.json, stdout, stderr)
	} else {
		err = runAll(ctx, w, o.quick, o.json, stdout, stderr)
	}
	if err != nil {
		return err
	}
	if o.memProfile != "" {
		return writeHeapProfile(o.memProfile)
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
		return host.Command(ctx, self, "--"+wanHelperFlag)
	}
	return &bench.WAN{Quick: quick, Command: command}, nil
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
		StartIdlePeers: bench.CommandIdlePeers(self, "--"+serveIdlePeersFlag),
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
