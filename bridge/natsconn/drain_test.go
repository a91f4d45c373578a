package natsconn

import (
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// TestDrainHandlesWhatWasSent: messages the server sent before it read the
// UNSUB still reach the handler, however slow it is, and none come after.
func TestDrainHandlesWhatWasSent(t *testing.T) {
	const n = 500
	s := runServer(t, &server.Options{})
	pub, c := dial(t, s, Options{}), dial(t, s, Options{})
	release := make(chan struct{})
	var got atomic.Int64
	sub, err := c.Subscribe("d", "", func(*Msg) {
		if got.Add(1) == 1 {
			<-release // the reader stalls while the rest are sent
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	flush(t, c)
	for range n {
		if err := pub.Publish("d", "", nil, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, pub)
	drained := make(chan error, 1)
	go func() { drained <- sub.Drain(t.Context()) }()
	close(release)
	if err := receive(t, drained); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish("d", "", nil, []byte("late")); err != nil {
		t.Fatal(err)
	}
	flush(t, pub)
	flush(t, c)
	if got.Load() != n {
		t.Fatalf("handled %d, want %d", got.Load(), n)
	}
}
