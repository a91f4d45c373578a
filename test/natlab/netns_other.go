//go:build !linux

package natlab

import (
	"errors"
	"os"
)

// inNetns always fails: network namespaces exist only on Linux.
func inNetns(ns string, fn func() error) error {
	return errors.New("natlab: network namespaces need Linux")
}

// sysctl is one /proc/sys setting: a path relative to /proc/sys and a value.
type sysctl struct {
	key, value string
}

// writeSysctls always fails: network namespaces exist only on Linux.
func writeSysctls(ns string, settings []sysctl, ignoreMissing bool) error {
	return errors.New("natlab: network namespaces need Linux")
}

// flushConntrack always fails: network namespaces exist only on Linux.
func flushConntrack(ns string) error {
	return errors.New("natlab: network namespaces need Linux")
}

// processAlive always reports true, so nothing is ever reaped.
func processAlive(pid int) bool { return true }

// openTap always fails: TAP devices in namespaces need Linux.
func openTap(ns, name string) (*os.File, error) {
	return nil, errors.New("natlab: network namespaces need Linux")
}
