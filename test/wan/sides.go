package wan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/peerbridge/peerbridge/test/natlab"
)

// CommandFunc returns the command that runs a helper inside host, one
// that calls [Play] (RunSides adds the Env variables to the command's
// environment, os.Environ() when it has none). ctx bounds the command's
// life, as in exec.CommandContext.
type CommandFunc func(ctx context.Context, host *natlab.Host) *exec.Cmd

// Sides are the two sides of one run: B plays the hub, A the spoke.
type Sides struct {
	A, B *natlab.Host
	// Dir holds a directory per side, made by RunSides.
	Dir     string
	Command CommandFunc
}

// RunSides starts the hub on s.B, then the spoke on s.A, and returns
// what the spoke measured and the hub, still running: the caller must
// [Process.Stop] it. ctx bounds starting and measuring.
func RunSides(ctx context.Context, s Sides, o Options) (Result, *Process, error) {
	opts, err := json.Marshal(o)
	if err != nil {
		return Result{}, nil, fmt.Errorf("wan: options: %w", err)
	}
	hub, err := s.start(RoleHub, s.B, EnvOptions+"="+string(opts))
	if err != nil {
		return Result{}, nil, err
	}
	r, err := s.runSpoke(ctx, hub, string(opts))
	if err != nil {
		return Result{}, nil, errors.Join(err, hub.Stop())
	}
	return r, hub, nil
}

// runSpoke waits for the hub's info, runs the spoke and returns its
// result once it has exited.
func (s Sides) runSpoke(ctx context.Context, hub *Process, opts string) (Result, error) {
	var info HubInfo
	if err := hub.Await(ctx, LineHub, &info); err != nil {
		return Result{}, err
	}
	infoJSON, err := json.Marshal(info)
	if err != nil {
		return Result{}, fmt.Errorf("wan: hub info: %w", err)
	}
	spoke, err := s.start(RoleSpoke, s.A, EnvOptions+"="+opts, EnvHub+"="+string(infoJSON))
	if err != nil {
		return Result{}, err
	}
	var r Result
	err = spoke.Await(ctx, LineResult, &r)
	return r, errors.Join(err, spoke.Stop())
}

// start starts role's helper on host with env added.
func (s Sides) start(role string, host *natlab.Host, env ...string) (*Process, error) {
	dir := filepath.Join(s.Dir, role)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("wan: %w", err)
	}
	env = append(env, EnvRole+"="+role, EnvAddr+"="+host.Addrs()[0].String(), EnvDir+"="+dir)
	return StartProcess(role, func(ctx context.Context) *exec.Cmd {
		cmd := s.Command(ctx, host)
		if cmd.Env == nil {
			cmd.Env = os.Environ()
		}
		cmd.Env = append(cmd.Env, env...)
		return cmd
	})
}

// LabResult is one run of [RunLab]: what the spoke measured and what the
// lab's wire did.
type LabResult struct {
	Result Result           `json:"result"`
	Wire   natlab.WireStats `json:"wire_stats"`
}

// RunLab builds a lab whose public links have wire w (two public hosts, a
// and b, each on one link: with w.Delay 10 ms their RTT is 40 ms), runs
// both sides in it with command, and tears the lab down, also on failure.
// dir holds the sides' files. Its error wraps natlab.ErrUnsupported when
// the machine cannot host the lab.
func RunLab(ctx context.Context, w natlab.Wire, o Options, dir string, command CommandFunc) (lr LabResult, err error) {
	lab, err := natlab.Open(natlab.WithWire(w))
	if err != nil {
		return LabResult{}, err
	}
	defer func() { err = errors.Join(err, lab.Close()) }()
	a, err := lab.CreatePublicHost("a", 1)
	if err != nil {
		return LabResult{}, err
	}
	b, err := lab.CreatePublicHost("b", 1)
	if err != nil {
		return LabResult{}, err
	}
	r, hub, err := RunSides(ctx, Sides{A: a, B: b, Dir: dir, Command: command}, o)
	if err != nil {
		return LabResult{}, err
	}
	if err := hub.Stop(); err != nil {
		return LabResult{}, err
	}
	return LabResult{Result: r, Wire: lab.WireStats()}, nil
}
