package bridge

import "time"

// Observer is told of outbound outcomes, for metrics. Its methods run on the
// bridge's goroutines and must not block.
type Observer interface {
	// Failed reports one outbound message or request that failed for one
	// peer.
	Failed(f Failure)
	// Requested reports an outbound request that ended after d: code is 0
	// if the peer answered, the error code otherwise.
	Requested(d time.Duration, code int)
}

// Failure is one outbound message or request that failed for one peer.
type Failure struct {
	// Code and Text are the NATS micro error code (400, 404, 503, ...) and
	// text, as the requester was told.
	Code int
	Text string
	// Subject is the NATS subject the message came on.
	Subject string
	// Peer is the target (a node ID, or NODE@endpoint), empty when the
	// message failed before its targets were read.
	Peer string
}

// SetObserver installs o; nil removes it.
func (b *Bridge) SetObserver(o Observer) { b.obs.Store(&o) }

func (b *Bridge) observer() Observer {
	if o := b.obs.Load(); o != nil {
		return *o
	}
	return nil
}

// observeFailed tells the observer of a failure of the message on subject
// for peer ("" if not known).
func (b *Bridge) observeFailed(subject, peer string, err error) {
	if o := b.observer(); o != nil {
		code, text := codeOf(err)
		o.Failed(Failure{Code: code, Text: text, Subject: subject, Peer: peer})
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
