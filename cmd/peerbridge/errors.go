package main

import (
	"errors"
	"strings"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
)

// shutdownSlack is how long a stop may take beyond the grace period.
const shutdownSlack = 5 * time.Second

// ownPrefixes start the messages of peerbridge's own errors.
var ownPrefixes = []string{"identity: ", "connector: ", "nats: ", "natpunch: ", "bridge: ", "admin: ", "status: ", "metrics: ", "modules: ", "gateway: ", "fleet: ", "membership: ", "codec: "}

// startError turns the error of a failed fx start into one line: the
// outermost error in the chain that peerbridge itself made, without fx's
// account of the graph around it. A key file others may read is a usage
// error, as is a configuration its component refuses: the fix is the
// operator's.
func startError(err error) error {
	e := err
	for ; e != nil; e = errors.Unwrap(e) {
		if hasOwnPrefix(e.Error()) {
			break
		}
	}
	if e == nil {
		e = err
	}
	if errors.Is(err, identity.ErrKeyExposed) || errors.Is(err, gateway.ErrInvalidConfig) || errors.Is(err, natpunch.ErrInvalidConfig) {
		return &usageError{e}
	}
	return e
}

func hasOwnPrefix(msg string) bool {
	for _, p := range ownPrefixes {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
