package natpunch

import "errors"

// ErrTCPRelayOff reports a TCP relay that is switched off.
var ErrTCPRelayOff = errors.New("natpunch: TCP relay is off")
