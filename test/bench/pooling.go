package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/peerbridge/peerbridge/connector"
)

// freshWarmup is how many fresh-dial sends precede the timed ones, so that
// one-off costs (TLS and QUIC setup in the process) are not timed.
const freshWarmup = 3

// pooling times acknowledged 128 B sends from one connector to another:
// over the pooled connection, and from a new connector each time, whose
// send must dial (QUIC and TLS 1.3 handshake) first. Making and closing
// the new connectors is not timed.
func (o ExtraOptions) pooling(ctx context.Context, progress func(string)) (map[string]float64, error) {
	sink, err := startConnector(ctx, ackHandler)
	if err != nil {
		return nil, fmt.Errorf("pooling: %w", err)
	}
	defer sink.Close()
	t := targetOf(sink)
	pooled, err := o.pooledSends(ctx, t)
	if err != nil {
		return nil, err
	}
	progress(fmt.Sprintf("pooled send: p50 %.1fus over %d sends", pooled.p50(), pooled.count()))
	fresh, err := o.freshSends(ctx, t)
	if err != nil {
		return nil, err
	}
	progress(fmt.Sprintf("fresh-dial send: p50 %.1fus over %d sends", fresh.p50(), fresh.count()))
	return map[string]float64{
		"send_pooled_p50_us":    pooled.p50(),
		"send_fresh_p50_us":     fresh.p50(),
		"pooled_vs_fresh_ratio": fresh.p50() / pooled.p50(),
	}, nil
}

// pooledSends times sends over one warm connection.
func (o ExtraOptions) pooledSends(ctx context.Context, t connector.Target) (*sampler, error) {
	c, err := startConnector(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("pooling: %w", err)
	}
	defer c.Close()
	data := payload(128)
	send := func() error { return c.Send(ctx, connector.Outbound{Target: t, Type: "pooled", Payload: data}) }
	for range freshWarmup * 10 {
		if err := send(); err != nil {
			return nil, fmt.Errorf("pooling: warm-up send: %w", err)
		}
	}
	s := newSampler()
	deadline := time.Now().Add(o.Duration)
	for i := 0; i < o.PooledSends && time.Now().Before(deadline); i++ {
		if err := s.time(send); err != nil {
			return nil, fmt.Errorf("pooling: pooled send: %w", err)
		}
	}
	return s, nil
}

// freshSends times one send from each of a series of new connectors.
func (o ExtraOptions) freshSends(ctx context.Context, t connector.Target) (*sampler, error) {
	s := newSampler()
	deadline := time.Now().Add(o.Duration)
	for i := 0; i < freshWarmup+o.FreshSends && time.Now().Before(deadline); i++ {
		rec := s
		if i < freshWarmup {
			rec = newSampler()
		}
		if err := freshSend(ctx, t, rec); err != nil {
			return nil, fmt.Errorf("pooling: fresh-dial send: %w", err)
		}
	}
	if s.count() == 0 {
		return nil, errors.New("pooling: no fresh-dial send within the time allowed")
	}
	return s, nil
}

// freshSend makes a connector, times its first send to t, and closes it.
func freshSend(ctx context.Context, t connector.Target, s *sampler) error {
	c, err := startConnector(ctx, nil)
	if err != nil {
		return err
	}
	data := payload(128)
	err = s.time(func() error { return c.Send(ctx, connector.Outbound{Target: t, Type: "fresh", Payload: data}) })
	if st := c.Stats(); err == nil && st.Dials != 1 {
		err = fmt.Errorf("fresh connector dialled %d times, want 1", st.Dials)
	}
	return errors.Join(err, c.Close())
}
