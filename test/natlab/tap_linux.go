//go:build linux

package natlab

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// openTap creates TAP device name inside namespace ns and returns its file:
// frames written to it arrive at the device, frames the device sends are
// read from it. The device lives as long as the file is open. The file is
// non-blocking and served by Go's poller, so Close ends a pending Read.
func openTap(ns, name string) (*os.File, error) {
	var f *os.File
	err := inNetns(ns, func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("natlab: open /dev/net/tun in %s: %w", ns, err)
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			unix.Close(fd)
			return fmt.Errorf("natlab: TAP name %q: %w", name, err)
		}
		ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return fmt.Errorf("natlab: create TAP %s in %s: %w", name, ns, err)
		}
		f = os.NewFile(uintptr(fd), "tap:"+ns+"/"+name)
		return nil
	})
	return f, err
}
