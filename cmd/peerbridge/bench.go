package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// benchCommand is the benchmark's own executable. It is built from test
// code and links testing and hdrhistogram, so the daemon only runs it.
const benchCommand = "peerbridge-bench"

// benchInstall says how to get benchCommand.
const benchInstall = `Install it with

  go install github.com/peerbridge/peerbridge/cmd/peerbridge-bench@latest

or build it in a checkout, beside peerbridge:

  go build -o peerbridge-bench ./cmd/peerbridge-bench
`

// benchLauncher runs 'peerbridge bench' as benchCommand with the same
// arguments, standard streams and exit code.
type benchLauncher struct {
	executable func() (string, error)       // this executable, os.Executable
	lookPath   func(string) (string, error) // exec.LookPath
	stdin      io.Reader
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	l := benchLauncher{executable: os.Executable, lookPath: exec.LookPath, stdin: os.Stdin}
	return l.run(ctx, args, stdout, stderr)
}

func (l benchLauncher) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	path, err := l.find()
	switch {
	case err != nil && wantsHelp(args):
		fmt.Fprint(stderr, benchHelp+"\n"+benchInstall)
		return nil
	case err != nil:
		fmt.Fprintf(stderr, "peerbridge bench: the benchmark is a separate program, %s, and it was not found beside this executable or in PATH.\n%s", benchCommand, benchInstall)
		return &exitError{2}
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = l.stdin, stdout, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	err = cmd.Run()
	if cmd.ProcessState == nil {
		return fmt.Errorf("running %s: %w", path, err)
	}
	return exitStatus(cmd.ProcessState)
}

// find is the path of benchCommand: beside this executable, else in PATH.
func (l benchLauncher) find() (string, error) {
	if self, err := l.executable(); err == nil {
		if path, err := l.lookPath(filepath.Join(filepath.Dir(self), benchCommand)); err == nil {
			return path, nil
		}
	}
	return l.lookPath(benchCommand)
}

// exitStatus is nil for a process that succeeded, its exit code as an
// *exitError for one that failed (it said why itself), and an error for
// one a signal ended.
func exitStatus(s *os.ProcessState) error {
	switch code := s.ExitCode(); {
	case code == 0:
		return nil
	case code > 0:
		return &exitError{code}
	default:
		return errors.New(s.String())
	}
}

// wantsHelp reports whether args ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// benchHelp is what 'peerbridge bench --help' says without benchCommand.
const benchHelp = `Usage: peerbridge bench [--quick] [--json] [--wan] [--cpuprofile FILE] [--memprofile FILE]

Measures peerbridge against plain NATS and a NATS leaf node, on loopback,
and across a simulated 40 ms WAN where it runs as root with /dev/net/tun,
nft and ip. --quick takes about 20 s on loopback, plus about 30 s for the
WAN scenario; a default run about 80 s.

What to measure:
  --quick
      small counts
  --wan
      run only the WAN scenario
  Example: peerbridge bench --quick

Output:
  --json
      print the figures as one JSON object instead of a table
  --cpuprofile FILE, --memprofile FILE
      write a CPU or heap profile of the run to FILE
  Example: peerbridge bench --quick --json --cpuprofile cpu.prof

The benchmark is a separate program, peerbridge-bench, so that the daemon
links no test code; 'peerbridge bench' runs it with the same flags. It was
not found beside this executable or in PATH, so this is all the help there
is. Once it is installed, 'peerbridge bench --help' describes every
figure.
`
