package wan

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Bounds of a helper process: its whole life, and its exit once asked to
// stop (after which it is killed).
const (
	HelperTimeout = 3 * time.Minute
	helperStop    = 20 * time.Second
)

// Process is a helper process playing one side, whose stdout lines are
// collected for [Process.Await]. Closing its stdin ([Process.Stop]) asks
// it to stop.
type Process struct {
	name   string
	cmd    *exec.Cmd
	cancel context.CancelFunc // ends cmd's context, after HelperTimeout at the latest
	stdin  io.Closer
	stderr bytes.Buffer // written by exec's copier; read after Wait

	mu   sync.Mutex    // guards out
	out  []string      // every stdout line so far
	more chan struct{} // signalled (without blocking) after each line
	eof  chan struct{} // closed when stdout ends

	wg      sync.WaitGroup // the stdout reader
	once    sync.Once
	stopErr error // set by the first Stop
}

// StartProcess starts the command build returns for a context that ends
// after HelperTimeout; name names it in errors. The caller must call
// [Process.Stop].
func StartProcess(name string, build func(ctx context.Context) *exec.Cmd) (*Process, error) {
	ctx, cancel := context.WithTimeout(context.Background(), HelperTimeout)
	p := &Process{name: name, cancel: cancel, more: make(chan struct{}, 1), eof: make(chan struct{})}
	p.cmd = build(ctx)
	p.cmd.Stderr = &p.stderr
	p.cmd.WaitDelay = time.Second
	stdin, err := p.cmd.StdinPipe()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("wan: %s helper: %w", name, err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("wan: %s helper: %w", name, err)
	}
	p.stdin = stdin
	if err := p.cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("wan: starting the %s helper: %w", name, err)
	}
	p.wg.Go(func() { p.read(stdout) })
	return p, nil
}

// Pid is the process's ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// read collects the helper's stdout lines until EOF.
func (p *Process) read(r io.Reader) {
	defer close(p.eof)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.out = append(p.out, sc.Text())
		p.mu.Unlock()
		select {
		case p.more <- struct{}{}:
		default:
		}
	}
}

// Await decodes into v the JSON after prefix on the first line that starts
// with it, or fails if the helper ends or ctx does first.
func (p *Process) Await(ctx context.Context, prefix string, v any) error {
	what := strings.TrimSpace(prefix)
	for next := 0; ; {
		p.mu.Lock()
		lines := p.out[next:]
		next = len(p.out)
		p.mu.Unlock()
		for _, line := range lines {
			if rest, found := strings.CutPrefix(line, prefix); found {
				return json.Unmarshal([]byte(rest), v)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wan: waiting for %s from the %s helper: %w", what, p.name, ctx.Err())
		case <-p.more:
		case <-p.eof:
			p.mu.Lock()
			done := next == len(p.out)
			p.mu.Unlock()
			if done {
				return fmt.Errorf("wan: the %s helper ended without %s", p.name, what)
			}
		}
	}
}

// Stop closes the helper's stdin, which asks it to stop, and waits for it
// to exit; after helperStop it is killed. Every call returns the first
// call's result.
func (p *Process) Stop() error {
	p.once.Do(func() {
		defer p.cancel()
		_ = p.stdin.Close()
		kill := time.AfterFunc(helperStop, func() { _ = p.cmd.Process.Kill() })
		defer kill.Stop()
		p.wg.Wait()
		if err := p.cmd.Wait(); err != nil {
			p.stopErr = fmt.Errorf("wan: %s helper: %w", p.name, err)
		}
	})
	return p.stopErr
}

// Output is what the helper printed, for failure reports; only once it
// has stopped.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.out, "\n") + "\n" + p.stderr.String()
}
