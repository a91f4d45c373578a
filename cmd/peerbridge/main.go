// Command peerbridge bridges NATS into a peer-to-peer mesh over QUIC.
//
// Usage:
//
//	peerbridge run      [flags]   run a bridge
//	peerbridge id       --key F   print the node ID of a key, creating it if missing
//	peerbridge gateway  [flags]   run a rendezvous and relay gateway
//	peerbridge probe    [flags]   report this host's NAT behaviour
//	peerbridge bench    [flags]   benchmark against plain NATS and a leaf node
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "run a bridge between NATS and the peer mesh", runBridge},
		{"id", "print the node ID of a key file, creating the key if missing", runID},
		{"gateway", "run a rendezvous and relay gateway for NAT traversal", runGateway},
		{"probe", "report this host's public address and NAT behaviour", runProbe},
		{"bench", "benchmark against plain NATS and a leaf node, on loopback", runBench},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := mainCode(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// mainCode runs the command line and returns the exit code: 0 on success, 2
// for usage errors, 1 for failures.
func mainCode(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, new(*usageError)):
			fmt.Fprintf(stderr, "peerbridge %s: %v\nRun 'peerbridge %s --help' for usage.\n", c.name, err, c.name)
			return 2
		default:
			fmt.Fprintf(stderr, "peerbridge %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "peerbridge: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "peerbridge bridges NATS into a peer-to-peer mesh over QUIC.\n\nUsage: peerbridge <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'peerbridge <command> --help' for a command's flags.")
}

// usageError is a mistake on the command line.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// parseFlags parses args into fs and turns every mistake into a *usageError.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err}
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
