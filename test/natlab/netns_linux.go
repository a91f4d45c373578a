//go:build linux

package natlab

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// netnsDir is where "ip netns add" bind-mounts named namespaces.
const netnsDir = "/var/run/netns"

// inNetns runs fn on an OS thread that has entered the named network
// namespace, and returns fn's error. Sockets fn creates belong to that
// namespace for their whole life and can be used from any goroutine.
//
// fn runs on a fresh goroutine locked to its thread. If the thread cannot be
// moved back to its original namespace it stays locked, so the Go runtime
// ends it when the goroutine returns instead of reusing it.
func inNetns(ns string, fn func() error) error {
	target, err := os.Open(filepath.Join(netnsDir, ns))
	if err != nil {
		return fmt.Errorf("natlab: open namespace %s: %w", ns, err)
	}
	defer target.Close()
	done := make(chan error, 1)
	go func() { done <- onThreadInNetns(ns, int(target.Fd()), fn) }()
	return <-done
}

// onThreadInNetns is inNetns's locked goroutine body.
func onThreadInNetns(ns string, targetFd int, fn func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("natlab: open current namespace: %w", err)
	}
	defer orig.Close()
	if err := unix.Setns(targetFd, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("natlab: enter namespace %s: %w", ns, err)
	}
	fnErr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: it is in the wrong namespace and must die
		// with this goroutine.
		return errors.Join(fnErr, fmt.Errorf("natlab: leave namespace %s: %w", ns, err))
	}
	runtime.UnlockOSThread()
	return fnErr
}

// sysctl is one /proc/sys setting: a path relative to /proc/sys and a value.
type sysctl struct {
	key, value string
}

// writeSysctls applies settings inside namespace ns. With ignoreMissing,
// settings whose file does not exist (a feature the kernel lacks) are
// skipped.
func writeSysctls(ns string, settings []sysctl, ignoreMissing bool) error {
	return inNetns(ns, func() error {
		for _, s := range settings {
			err := os.WriteFile(filepath.Join("/proc/sys", s.key), []byte(s.value), 0o644)
			if ignoreMissing && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("natlab: sysctl %s=%s in %s: %w", s.key, s.value, ns, err)
			}
		}
		return nil
	})
}
