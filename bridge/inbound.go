package bridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
	"github.com/peerbridge/peerbridge/codec"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// ServePeer delivers a message or request from a peer to local NATS. It
// implements connector.Handler; errors are *connector.RemoteError.
func (b *Bridge) ServePeer(ctx context.Context, m *connector.Message) (*connector.Response, error) {
	if err := b.inbound.add(); err != nil {
		return nil, remoteError(err)
	}
	defer b.inbound.done()
	resp, err := b.serve(ctx, m)
	if err != nil {
		b.stats.inboundFailed.Add(1)
		b.log.Debug("inbound message failed", "from", m.From.Short(), "type", m.Type, "err", err)
		return nil, err
	}
	b.stats.inbound.Add(1)
	return resp, nil
}

// withLifetime returns ctx, also cancelled when the bridge's lifetime ends,
// and bounded by the default timeout if it has no deadline.
func (b *Bridge) withLifetime(ctx context.Context) (context.Context, context.CancelFunc) {
	var cancel context.CancelFunc
	if _, ok := ctx.Deadline(); ok {
		ctx, cancel = context.WithCancel(ctx)
	} else {
		ctx, cancel = context.WithTimeout(ctx, b.cfg.DefaultTimeout)
	}
	stop := context.AfterFunc(b.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

func (b *Bridge) serve(ctx context.Context, m *connector.Message) (*connector.Response, error) {
	switch m.Kind {
	case codec.KindSend:
		return nil, b.publish(ctx, m)
	case codec.KindRequest:
		return b.request(ctx, m)
	}
	return nil, remoteError(fmt.Errorf("%w: unexpected %s message", ErrBadRequest, m.Kind))
}

// publish publishes a peer's message on <prefix>.recv.<type>. When the
// NATS connection's buffer is full, it waits for the server to read it, as
// long as ctx and the default timeout allow, so that a peer sending faster
// than NATS takes messages is slowed down, not refused.
func (b *Bridge) publish(ctx context.Context, m *connector.Message) error {
	subject, err := b.recvSubject(m.Type)
	if err == nil {
		err = b.mayDeliver(m, subject)
	}
	if err != nil {
		return remoteError(err)
	}
	h, err := b.inboundHeader(m)
	if err == nil {
		err = b.hot.publish(subject, "", h, m.Payload)
	}
	if errors.Is(err, natsconn.ErrPendingFull) {
		err = b.publishSlowly(ctx, subject, h, m.Payload)
	}
	if err != nil {
		return remoteError(fmt.Errorf("bridge: publishing on %s: %w", subject, err))
	}
	return nil
}

// publishSlowly publishes once the server has read what is buffered,
// while the buffer stays full, until ctx or the default timeout ends.
func (b *Bridge) publishSlowly(ctx context.Context, subject string, h, data []byte) error {
	ctx, cancel := b.withLifetime(ctx)
	defer cancel()
	return publishWhenRead(ctx, b.hot, subject, "", h, data)
}

// publishWhenRead publishes on p after a publish found its buffer full:
// it waits for the server to read what is buffered, then tries again,
// while the buffer stays full, until ctx ends.
func publishWhenRead(ctx context.Context, p hotPath, subject, reply string, h, data []byte) error {
	for {
		if err := p.flush(ctx); err != nil {
			return err
		}
		if err := p.publish(subject, reply, h, data); !errors.Is(err, natsconn.ErrPendingFull) {
			return err
		}
	}
}

// inboundHeader is the raw header block of a peer's message: its headers,
// but none of the bridge's, plus Peer-From. A message without headers of
// its own gets the last sender's block if it is from the same peer.
func (b *Bridge) inboundHeader(m *connector.Message) ([]byte, error) {
	if len(m.Headers) == 0 {
		return b.fromBlock.get(m.From, func(id identity.NodeID) ([]byte, error) {
			return natsconn.AppendHeader(nil, HeaderFrom, id.String()), nil
		})
	}
	h, err := appendHeaders(nil, m.Headers)
	if err != nil {
		return nil, err
	}
	return natsconn.AppendHeader(h, HeaderFrom, m.From.String()), nil
}

// mayDeliver refuses a message its peer may not have published on subject.
func (b *Bridge) mayDeliver(m *connector.Message, subject string) error {
	if b.cfg.Access == nil || b.cfg.Access.MayDeliver(m.From, m.Type, subject) {
		return nil
	}
	b.stats.forbidden.Add(1)
	return fmt.Errorf("%w: node %s may not send type %q here", ErrForbidden, m.From.Short(), m.Type)
}

// request sends a peer's request to the NATS service for its type and
// returns the service's reply as it is, error headers included. It goes
// over the hot path (see replyMux). (A message is published without
// waiting, so only a request needs the lifetime.)
func (b *Bridge) request(ctx context.Context, m *connector.Message) (*connector.Response, error) {
	subject, err := b.serveSubject(m.Type)
	if err == nil {
		err = b.mayDeliver(m, subject)
	}
	if err != nil {
		return nil, remoteError(err)
	}
	h, err := b.inboundHeader(m)
	if err != nil {
		return nil, remoteError(err)
	}
	ctx, cancel := b.withLifetime(ctx)
	defer cancel()
	reply, err := b.replies.request(ctx, b.hot, subject, h, m.Payload)
	if err == nil && noResponders(reply.header) {
		err = nats.ErrNoResponders
	}
	if err != nil {
		return nil, requestError(subject, err)
	}
	return &connector.Response{Headers: headerMap(reply.header), Payload: reply.data}, nil
}

func requestError(subject string, err error) *connector.RemoteError {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return &connector.RemoteError{Code: connector.CodeUnavailable, Text: "no responders for " + subject}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return &connector.RemoteError{Code: connector.CodeTimeout, Text: "timeout waiting for " + subject}
	}
	return remoteError(fmt.Errorf("bridge: request on %s: %w", subject, err))
}
