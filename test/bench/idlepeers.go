package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/peerbridge/peerbridge/connector"
)

// IdlePeers are running peers for the idle-memory figure: connectors that
// acknowledge everything and otherwise sit idle.
type IdlePeers interface {
	// Targets address the peers, node ID and endpoint each.
	Targets() []connector.Target
	// InProcess reports whether the peers live in this process, so that
	// their memory shows in its heap.
	InProcess() bool
	// Close stops the peers.
	Close() error
}

// An IdlePeersFunc starts n idle peers. ctx bounds the start only.
type IdlePeersFunc func(ctx context.Context, n int) (IdlePeers, error)

// localPeers are idle peers in this process.
type localPeers struct{ cs []*connector.Connector }

// StartIdlePeersInProcess is an IdlePeersFunc that starts the peers in this
// process. The memory figure then counts both ends of every connection (the
// bridge's and the peer's), so it is an upper bound on the bridge's share,
// about twice that share since both ends run the same code.
func StartIdlePeersInProcess(ctx context.Context, n int) (IdlePeers, error) {
	cs, err := startSinks(ctx, n)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("bench: idle peers: %w", err), closeAll(cs))
	}
	return &localPeers{cs: cs}, nil
}

func (p *localPeers) Targets() []connector.Target {
	ts := make([]connector.Target, len(p.cs))
	for i, c := range p.cs {
		ts[i] = targetOf(c)
	}
	return ts
}

func (p *localPeers) InProcess() bool { return true }
func (p *localPeers) Close() error    { return closeAll(p.cs) }

// readyLine ends the list of targets a peer process prints.
const readyLine = "ready"

// ServeIdlePeers is the body of a peer process for [CommandIdlePeers]: it
// starts n idle peers, prints their targets ("NODEID@host:port") one per
// line to out followed by a line "ready", and serves them until in reaches
// its end (the parent closed it) or ctx ends.
func ServeIdlePeers(ctx context.Context, n int, in io.Reader, out io.Writer) error {
	p, err := StartIdlePeersInProcess(ctx, n)
	if err != nil {
		return err
	}
	defer p.Close()
	w := bufio.NewWriter(out)
	for _, t := range p.Targets() {
		fmt.Fprintln(w, t.String())
	}
	fmt.Fprintln(w, readyLine)
	if err := w.Flush(); err != nil {
		return fmt.Errorf("bench: idle peers: writing targets: %w", err)
	}
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, in)
		close(eof)
	}()
	select {
	case <-eof:
	case <-ctx.Done():
	}
	return nil
}

// procPeers are idle peers in a child process.
type procPeers struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	ts    []connector.Target
}

// peerProcessExit bounds the wait for a peer process to exit once its
// input is closed; then it is killed.
const peerProcessExit = 10 * time.Second

// CommandIdlePeers is an IdlePeersFunc that runs the peers in a child
// process, so the memory figure counts the bridge's end of each connection
// alone. The command is name with args and n appended; it must run
// [ServeIdlePeers] with n on its standard input and output.
func CommandIdlePeers(name string, args ...string) IdlePeersFunc {
	return func(ctx context.Context, n int) (IdlePeers, error) {
		cmd := exec.Command(name, append(args, strconv.Itoa(n))...)
		p, err := startPeerProcess(ctx, cmd)
		if err != nil {
			return nil, fmt.Errorf("bench: idle peer process: %w", err)
		}
		return p, nil
	}
}

func startPeerProcess(ctx context.Context, cmd *exec.Cmd) (*procPeers, error) {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &procPeers{cmd: cmd, stdin: stdin}
	stop := context.AfterFunc(ctx, func() { _ = cmd.Process.Kill() })
	p.ts, err = readTargets(stdout)
	stop()
	if err != nil {
		return nil, errors.Join(err, p.Close(), fmt.Errorf("its stderr: %q", stderr.String()))
	}
	return p, nil
}

// readTargets reads targets up to the ready line.
func readTargets(r io.Reader) ([]connector.Target, error) {
	var ts []connector.Target
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if sc.Text() == readyLine {
			return ts, nil
		}
		t, err := connector.ParseTarget(sc.Text())
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	err := sc.Err()
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return nil, fmt.Errorf("no %q line: %w", readyLine, err)
}

func (p *procPeers) Targets() []connector.Target { return p.ts }
func (p *procPeers) InProcess() bool             { return false }

// Close closes the process's input and waits for it to exit, killing it
// if it takes longer than peerProcessExit.
func (p *procPeers) Close() error {
	_ = p.stdin.Close()
	t := time.AfterFunc(peerProcessExit, func() { _ = p.cmd.Process.Kill() })
	defer t.Stop()
	if err := p.cmd.Wait(); err != nil {
		return fmt.Errorf("bench: idle peer process: %w", err)
	}
	return nil
}
