// Command peerbridge bridges NATS into a peer-to-peer mesh over QUIC.
//
// Usage:
//
//	peerbridge run      [flags]   run a bridge
//	peerbridge id       [--key F] print the node ID of a key, creating it if missing
//	peerbridge gateway  [flags]   run a rendezvous and relay gateway
//	peerbridge probe    [flags]   report this host's NAT behaviour
//	peerbridge bench    [flags]   benchmark against plain NATS and a leaf node
//	                              (runs the separate peerbridge-bench)
//	peerbridge status   [flags]   list the bridges on a NATS and their peers
//	peerbridge version            print the version
//
// Exit codes: 0 on success, 1 when the command fails, 2 for a mistake on the
// command line, in the environment or in the config file. The first SIGINT
// or SIGTERM stops a command gracefully (exit 0 once stopped); a second one
// stops it at once with 128 plus the signal's number: 130 for SIGINT, 143
// for SIGTERM.
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
		{"bench", "benchmark against plain NATS and a leaf node (runs peerbridge-bench)", runBench},
		{"status", "list the bridges on a NATS and their peers", runStatus},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go stopOnSignals(sigs, cancel, os.Stderr, os.Exit) // lives as long as the process
	os.Exit(mainCode(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// mainCode runs the command line and returns the exit code: 0 on success, 2
// for usage errors, 1 for failures.
func mainCode(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 2 && args[0] == "help" {
		args = []string{args[1], "--help"} // 'peerbridge help run' is 'peerbridge run --help'
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" {
		fmt.Fprintln(stdout, versionLine())
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		code := exitCode(err)
		if code != 0 && !errors.As(err, new(*exitError)) {
			fmt.Fprintf(stderr, "peerbridge %s: %v\n", c.name, oneLine(err))
		}
		return code
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
	fmt.Fprintln(w, "\nRun 'peerbridge <command> --help' for a command's flags, 'peerbridge --version' for the version.")
}

// usageError is a mistake on the command line.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// exitCode is the exit code of a command that returned err.
func exitCode(err error) int {
	var exit *exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &exit):
		return exit.code
	case errors.As(err, new(*usageError)):
		return 2
	default:
		return 1
	}
}

// exitError ends the command with code, having said why already (or
// having run a program that did).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// parseFlags parses args into fs and turns every mistake into a *usageError
// of one line; it prints the usage only when asked with -h or --help.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	usage := fs.Usage
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	addHints(fs)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	case err != nil:
		return &usageError{fmt.Errorf("%w (see '%s --help')", flagError(err), fs.Name())}
	case fs.NArg() > 0:
		return &usageError{fmt.Errorf("unexpected argument %q (see '%s --help')", fs.Arg(0), fs.Name())}
	}
	return nil
}

// oneLine is err's message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
