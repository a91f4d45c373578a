package bridge

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// recorder is an Observer that keeps what it was told.
type recorder struct {
	mu        sync.Mutex // guards failed and requested
	failed    []int
	requested []int
}

func (r *recorder) Failed(f Failure) {
	code := f.Code
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, code)
}

func (r *recorder) Requested(d time.Duration, code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requested = append(r.requested, code)
}

// TestObserverSeesOutcomes: an answered request, a request to an unknown
// peer and a message to an unknown peer reach the observer with their codes.
func TestObserverSeesOutcomes(t *testing.T) {
	a, b := startNode(t, Config{}), startNode(t, Config{})
	var rec recorder
	a.bridge.SetObserver(&rec)
	serve(t, b.nc, "peer.recv.echo", echo)
	unknown := nats.Header{HeaderNode: {newID(t).NodeID().String()}}

	if r := request(t, a.nc, "peer.request.echo", to(b), []byte("x")); errCode(r) != "" {
		t.Fatalf("request failed: %s", errCode(r))
	}
	request(t, a.nc, "peer.request.echo", unknown, nil)
	request(t, a.nc, "peer.send.echo", unknown, nil)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !slices.Equal(rec.requested, []int{0, 404}) || !slices.Equal(rec.failed, []int{404, 404}) {
		t.Errorf("requested %v, failed %v; want [0 404], [404 404]", rec.requested, rec.failed)
	}
}
