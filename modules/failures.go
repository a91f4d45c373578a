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
func (o observers) Failed(f bridge.Failure) {
	for _, x := range o {
		x.Failed(f)
	}
}

// Requested implements bridge.Observer.
func (o observers) Requested(d time.Duration, code int) {
	for _, x := range o {
		x.Requested(d, code)
	}
}

// failureLog logs outbound failures as warnings, one message per error code
// so that the logger's rate limit counts repeats of each code apart, with
// the subject, the target and the reason.
type failureLog struct{ log *slog.Logger }

// Failed implements bridge.Observer.
func (l failureLog) Failed(f bridge.Failure) {
	attrs := []any{"subject", f.Subject, "reason", f.Text}
	if f.Peer != "" {
		attrs = append(attrs, "peer", f.Peer)
	}
	l.log.Warn(fmt.Sprintf("outbound failed with %d", f.Code), attrs...)
}

// Requested implements bridge.Observer.
func (failureLog) Requested(time.Duration, int) {}
