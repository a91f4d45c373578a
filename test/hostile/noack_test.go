package hostile

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
)

// TestAttackReadNeverAck is issue 18 row 1: a peer reads every frame the
// victim writes and never acknowledges one, while the victim's app sends as
// fast as it can. What the victim holds for the peer stays within its queue
// budget, every sender learns its message's fate (busy, timed out, or
// failed with ErrSlowPeer, or found no peer once it was cut off), the peer loses its connection once it has
// acknowledged nothing for AckTimeout, and a legitimate peer is served
// throughout.
func TestAttackReadNeverAck(t *testing.T) {
	const (
		sends      = 4000
		size       = 1024
		maxQueue   = 1000
		budget     = 1 << 20 // under maxQueue messages of size: the byte budget binds first
		ackTimeout = time.Second
	)
	cfg := connector.Config{MaxQueue: maxQueue, MaxQueuedBytes: budget, AckTimeout: ackTimeout}
	victim := startConnector(t, "127.0.0.1", cfg, nil)
	legit := startConnector(t, "127.0.0.1", connector.Config{}, connectortest.Accepting())
	qc, id := neverAcker(t, victim)
	ctx := testCtx(t)

	var busy, timedOut, slow, gone, other, called atomic.Int64
	var peak atomic.Int64
	start := time.Now()
	for i := range sends {
		o := connector.Outbound{Target: connector.Target{NodeID: id}, Type: "t", Payload: make([]byte, size)}
		if i%2 == 0 {
			o.Timeout = ackTimeout / 4 // half the sends give up before the peer is cut off
		}
		victim.SendAsync(ctx, o, func(r connector.Result) {
			switch {
			case errors.Is(r.Err, connector.ErrBusy):
				busy.Add(1)
			case errors.Is(r.Err, connector.ErrTimeout):
				timedOut.Add(1)
			case errors.Is(r.Err, connector.ErrSlowPeer):
				slow.Add(1)
			case errors.Is(r.Err, connector.ErrUnknownPeer):
				gone.Add(1) // sent once the peer was cut off
			default:
				if other.Add(1) == 1 {
					t.Logf("first other outcome: %v", r.Err)
				}
			}
			called.Add(1)
		})
		peak.Store(max(peak.Load(), int64(victim.Stats().QueuedBytes)))
	}
	if err := victim.Send(ctx, connector.Outbound{Target: targetOf(legit), Type: "t"}); err != nil {
		t.Errorf("victim's message to a legitimate peer during the attack: %v", err)
	}

	<-qc.Context().Done()
	closedAfter := time.Since(start)
	waitFor(t, "every sender to hear of its message", func() bool { return called.Load() == sends })
	st := victim.Stats()
	t.Logf("%d sends: busy %d, timed out %d, slow peer %d, after the cut-off %d; queued bytes peak %d (budget %d); attacker cut off after %v",
		sends, busy.Load(), timedOut.Load(), slow.Load(), gone.Load(), st.QueuedBytesPeak, budget, closedAfter.Round(time.Millisecond))
	if st.QueuedBytesPeak > budget || peak.Load() > budget {
		t.Errorf("queued bytes peaked at %d (sampled %d), budget %d", st.QueuedBytesPeak, peak.Load(), budget)
	}
	if busy.Load() == 0 || timedOut.Load() == 0 || slow.Load() == 0 || other.Load() != 0 {
		t.Errorf("outcomes: busy %d, timed out %d, slow peer %d, other %d; want all but other", busy.Load(), timedOut.Load(), slow.Load(), other.Load())
	}
	if closedAfter < ackTimeout || closedAfter > 3*ackTimeout {
		t.Errorf("attacker cut off after %v, want between AckTimeout %v and 3 times it", closedAfter, ackTimeout)
	}
	if st.SlowPeers != 1 {
		t.Errorf("SlowPeers = %d, want 1", st.SlowPeers)
	}
	waitFor(t, "the queue space back", func() bool { return victim.Stats().QueuedBytes == 0 })
}
