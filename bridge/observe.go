package bridge

import "time"

// Observer is told of outbound outcomes, for metrics. Its methods run on the
// bridge's goroutines and must not block.
type Observer interface {
	// Failed reports one outbound message or request that failed for one
	// peer, with its NATS micro error code (400, 404, 503, ...) and text,
	// as the requester was told.
	Failed(code int, text string)
	// Requested reports an outbound request that ended after d: code is 0
	// if the peer answered, the error code otherwise.
	Requested(d time.Duration, code int)
}

// SetObserver installs o; nil removes it.
func (b *Bridge) SetObserver(o Observer) { b.obs.Store(&o) }

func (b *Bridge) observer() Observer {
	if o := b.obs.Load(); o != nil {
		return *o
	}
	return nil
}

// observeFailed tells the observer of a failure.
func (b *Bridge) observeFailed(err error) {
	if o := b.observer(); o != nil {
		o.Failed(codeOf(err))
	}
}

// observeRequest tells the observer of a request that began at start.
func (b *Bridge) observeRequest(start time.Time, err error) {
	o := b.observer()
	if o == nil {
		return
	}
	code := 0
	if err != nil {
		code, _ = codeOf(err)
	}
	o.Requested(time.Since(start), code)
}
