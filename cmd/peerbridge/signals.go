package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"syscall"
)

// stopOnSignals stops the command on signals from sigs, the process's
// SIGINT and SIGTERM: the first cancels ctx (cancel), so that the command
// stops gracefully; a second exits at once with 128 plus its number (130
// for SIGINT, 143 for SIGTERM), as a shell reports a process a signal
// ended. It returns after the first signal if exit returns.
func stopOnSignals(sigs <-chan os.Signal, cancel context.CancelCauseFunc, stderr io.Writer, exit func(int)) {
	first := <-sigs
	cancel(fmt.Errorf("received %v", first))
	second := <-sigs
	code := signalExitCode(second)
	fmt.Fprintf(stderr, "peerbridge: second signal (%v): stopping at once without waiting for work in flight (exit %d)\n", second, code)
	exit(code)
}

// signalExitCode is 128 plus the number of s, 1 for a signal without one.
func signalExitCode(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 1
}
