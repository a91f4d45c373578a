// Command peerbridge-bench measures peerbridge against plain NATS and a
// NATS leaf node. It is a program of its own, not part of the daemon,
// because it is built from test code (test/bench, test/natlab, test/wan)
// and links testing and hdrhistogram, which the daemon must not.
// 'peerbridge bench [flags]' runs it with the same flags.
//
// Usage:
//
//	peerbridge-bench [--quick] [--json] [--wan] [--cpuprofile F] [--memprofile F]
//
// Exit codes: 0 on success, 1 when the run fails, 2 for a mistake on the
// command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// name is how messages name this command.
const name = "peerbridge-bench"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := mainCode(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// mainCode runs the command line and returns the exit code.
func mainCode(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := newFlagSet(&o)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage(fs, stderr)
		return 0
	case err == nil && fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v (see '%s --help')\n", name, flagError(err), name)
		return 2
	}
	if err := run(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", name, strings.Join(strings.Fields(err.Error()), " "))
		return 1
	}
	return 0
}

// options are the command line's flags.
type options struct {
	quick, json, wanOnly   bool
	cpuProfile, memProfile string
	idlePeers              int  // > 0: serve that many idle peers (hidden)
	wanHelper              bool // play one side of the WAN scenario (hidden)
}

// newFlagSet is the flag set filling o. It prints nothing: mainCode says
// what went wrong, and prints the usage only when asked.
func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolVar(&o.quick, "quick", false, "small counts: the whole run takes under a minute, about 20 s without the WAN scenario")
	fs.BoolVar(&o.json, "json", false, "print the figures as one JSON object instead of a table")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to `FILE`")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile at the end of the run to `FILE`")
	fs.BoolVar(&o.wanOnly, "wan", false, "run only the WAN scenario (needs root, /dev/net/tun, nft and ip)")
	fs.IntVar(&o.idlePeers, serveIdlePeersFlag, 0, "")
	fs.BoolVar(&o.wanHelper, wanHelperFlag, false, "")
	return fs
}
