package modules

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/peerbridge/peerbridge/bridge"
)

// observers tells every one of its observers.
type observers []bridge.Observer

var _ bridge.Observer = observers(nil)

// Failed implements bridge.Observer.
func (o observers) Failed(code int, text string) {
	for _, x := range o {
		x.Failed(code, text)
	}
}

// Requested implements bridge.Observer.
func (o observers) Requested(d time.Duration, code int) {
	for _, x := range o {
		x.Requested(d, code)
	}
}

// failureLog logs outbound failures as warnings, one message per error code
// so that the logger's rate limit counts repeats of each code apart.
type failureLog struct{ log *slog.Logger }

// Failed implements bridge.Observer.
func (f failureLog) Failed(code int, text string) {
	f.log.Warn(fmt.Sprintf("outbound failed with %d", code), "err", text)
}

// Requested implements bridge.Observer.
func (failureLog) Requested(time.Duration, int) {}
