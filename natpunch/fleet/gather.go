package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// DefaultGatherStall is how long AskAll waits for another answer after the
// last one came. Gateways on one network answer within milliseconds; an
// answer later than this goes uncounted, which the holders' check after
// the bridge's first refresh makes good (see the package documentation).
const DefaultGatherStall = 100 * time.Millisecond

// AskAll sends op about id to every gateway of the fleet holding id and
// hands each answer to each, until each says it has enough, no answer
// comes within the stall time after the last, or ctx ends. A refusal is
// not handed on. It returns nil as soon as no gateway but this one holds
// id: the server answers 503 at once when nobody else subscribes (this
// gateway's own subscription included when its NATS connection was made
// with nats.NoEcho; without it, this gateway answers itself and AskAll
// waits out the stall).
func (f *Fleet) AskAll(ctx context.Context, id identity.NodeID, op string, payload []byte, each func([]byte) bool) error {
	sub, err := f.publish(id, op, payload)
	if err != nil {
		return fmt.Errorf("fleet: asking every holder %s of %s: %w", op, id.Short(), err)
	}
	defer sub.Unsubscribe()
	var by time.Time // zero until the first answer
	for {
		m, err := nextBy(ctx, sub, by)
		switch {
		case errors.Is(err, nats.ErrNoResponders):
			return nil
		case errors.Is(err, context.DeadlineExceeded) && !by.IsZero() && ctx.Err() == nil:
			return nil // stalled: every holder that could answer did
		case err != nil:
			return fmt.Errorf("fleet: asking every holder %s of %s: %w", op, id.Short(), err)
		}
		by = time.Now().Add(f.stall)
		if m.Header.Get(headerError) != "" {
			continue
		}
		if !each(m.Data) {
			return nil
		}
	}
}

// Sync returns once the server has processed everything sent before,
// Announce's subscriptions included. ctx must have a deadline.
func (f *Fleet) Sync(ctx context.Context) error {
	if err := f.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("fleet: sync: %w", err)
	}
	return nil
}

// Epoch counts the times the gateway's NATS connection was re-established:
// what this gateway announced was out of the fleet's sight in between.
func (f *Fleet) Epoch() uint64 { return f.nc.Stats().Reconnects }
