//go:build linux

package natlab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"

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

// flushConntrack empties the connection-tracking table of namespace ns, as
// "conntrack -F" would, over netlink (no conntrack program needed).
func flushConntrack(ns string) error {
	return inNetns(ns, func() error {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
		if err != nil {
			return fmt.Errorf("natlab: conntrack netlink socket in %s: %w", ns, err)
		}
		defer unix.Close(fd)
		if err := unix.Connect(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return fmt.Errorf("natlab: conntrack netlink connect in %s: %w", ns, err)
		}
		if err := unix.Send(fd, conntrackFlushRequest(), 0); err != nil {
			return fmt.Errorf("natlab: conntrack flush in %s: %w", ns, err)
		}
		return readNetlinkAck(fd, ns)
	})
}

// conntrackFlushRequest is an IPCTNL_MSG_CT_DELETE request for IPv4 with no
// attributes, which deletes every entry, asking for an acknowledgement.
func conntrackFlushRequest() []byte {
	const (
		ipctnlMsgCtDelete = 2
		nlmsgLen          = unix.SizeofNlMsghdr + 4 // header + nfgenmsg
	)
	b := make([]byte, 0, nlmsgLen)
	b = binary.NativeEndian.AppendUint32(b, nlmsgLen)
	b = binary.NativeEndian.AppendUint16(b, unix.NFNL_SUBSYS_CTNETLINK<<8|ipctnlMsgCtDelete)
	b = binary.NativeEndian.AppendUint16(b, unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	b = binary.NativeEndian.AppendUint32(b, 1) // sequence number
	b = binary.NativeEndian.AppendUint32(b, 0) // port ID: the kernel's
	return append(b, unix.AF_INET, unix.NFNETLINK_V0, 0, 0)
}

// readNetlinkAck reads the kernel's answer to one request and returns its
// error, if any. The socket has a receive timeout, so it cannot hang.
func readNetlinkAck(fd int, ns string) error {
	tv := unix.NsecToTimeval(int64(cmdTimeout))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("natlab: conntrack netlink timeout in %s: %w", ns, err)
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return fmt.Errorf("natlab: conntrack flush answer in %s: %w", ns, err)
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil {
		return fmt.Errorf("natlab: conntrack flush answer in %s: %w", ns, err)
	}
	for _, m := range msgs {
		if m.Header.Type != unix.NLMSG_ERROR || len(m.Data) < 4 {
			continue
		}
		if errno := int32(binary.NativeEndian.Uint32(m.Data)); errno != 0 {
			return fmt.Errorf("natlab: conntrack flush in %s: %w", ns, unix.Errno(-errno))
		}
		return nil
	}
	return fmt.Errorf("natlab: conntrack flush in %s: no acknowledgement", ns)
}

// processAlive reports whether process pid exists.
func processAlive(pid int) bool {
	return unix.Kill(pid, 0) != unix.ESRCH
}
