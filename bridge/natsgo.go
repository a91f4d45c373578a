package bridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
)

// natsGoPath is the hot path on a nats.go connection, which the daemon
// owns: it reconnects by itself, and subscriptions survive reconnects.
// Headers are converted between raw blocks and nats.go's maps.
type natsGoPath struct {
	nc *nats.Conn
}

var _ hotPath = natsGoPath{}

func (p natsGoPath) subscribe(subject, queue string, h natsconn.Handler) (hotSub, error) {
	sub, err := p.nc.QueueSubscribe(subject, queue, func(m *nats.Msg) {
		h(&natsconn.Msg{Subject: []byte(m.Subject), Reply: []byte(m.Reply), Header: headerBlock(m.Header), Data: m.Data})
	})
	if err != nil {
		return nil, err
	}
	return natsGoSub{p.nc, sub}, nil
}

func (p natsGoPath) publish(subject, reply string, header, data []byte) error {
	m := &nats.Msg{Subject: subject, Reply: reply, Data: data}
	if len(header) > 0 {
		m.Header = headerMap(header)
	}
	return p.nc.PublishMsg(m)
}

func (p natsGoPath) flush(ctx context.Context) error {
	if !p.nc.IsConnected() {
		return nil // NATS is not up yet; the subscriptions go out when it is
	}
	return p.nc.FlushWithContext(ctx)
}

func (p natsGoPath) err() error {
	if st := p.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("bridge: nats %s", st)
	}
	return nil
}

func (p natsGoPath) close() error { return nil }

type natsGoSub struct {
	nc  *nats.Conn
	sub *nats.Subscription
}

// drain is nats.go's Drain, bounded by ctx and by the connection: no
// server can confirm a drain once it is lost.
func (s natsGoSub) drain(ctx context.Context) error {
	lost := s.nc.StatusChanged(nats.DISCONNECTED, nats.RECONNECTING, nats.CLOSED)
	defer s.nc.RemoveStatusListener(lost)
	closed := s.sub.StatusChanged(nats.SubscriptionClosed)
	if !s.nc.IsConnected() || s.sub.Drain() != nil {
		s.sub.Unsubscribe()
		return nil
	}
	select {
	case <-closed:
	case <-lost:
		s.sub.Unsubscribe()
	case <-ctx.Done():
		s.sub.Unsubscribe()
		return fmt.Errorf("draining %s: %w", s.sub.Subject, ctx.Err())
	}
	return nil
}

// isMaxPayload reports whether a publish failed for its size, on either path.
func isMaxPayload(err error) bool {
	return errors.Is(err, natsconn.ErrMaxPayload) || errors.Is(err, nats.ErrMaxPayload)
}
