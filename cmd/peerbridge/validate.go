package main

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// checks collects what is wrong with flag values, each naming its flag and
// saying what would be right.
type checks []error

// addr checks a host:port flag; empty passes if optional.
func (c *checks) addr(flagName, v, example string, optional bool) {
	if v == "" && optional {
		return
	}
	_, port, err := net.SplitHostPort(v)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil {
		*c = append(*c, fmt.Errorf("--%s %q: want host:port, e.g. %s", flagName, v, example))
	}
}

// ipPort checks an ip:port flag, which takes no host name.
func (c *checks) ipPort(flagName, v, example string) {
	if _, err := netip.ParseAddrPort(v); err != nil {
		*c = append(*c, fmt.Errorf("--%s %q: want ip:port, e.g. %s", flagName, v, example))
	}
}

// positive checks a count that must be above zero.
func (c *checks) positive(flagName string, v int, example string) {
	if v <= 0 {
		*c = append(*c, fmt.Errorf("--%s %d: must be positive, e.g. %s", flagName, v, example))
	}
}

// duration checks a duration that must be above zero.
func (c *checks) duration(flagName string, v time.Duration, example string) {
	if v <= 0 {
		*c = append(*c, fmt.Errorf("--%s %v: must be positive, e.g. %s", flagName, v, example))
	}
}

// err returns the first mistake as a *usageError: one line, the flag and
// the fix.
func (c checks) err() error {
	if len(c) == 0 {
		return nil
	}
	return &usageError{c[0]}
}
