package fleet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
)

// maxAskAnswers bounds the answers one Ask reads: a not-found answer (a
// gateway that has just lost the node, while its subscription lingers)
// does not end it, another holder's answer may follow.
const maxAskAnswers = 8

// Ask sends op about id to the homes of id and returns the first answer
// that is not a not-found refusal: ErrNotInFleet at once if no gateway
// subscribes to id. A not-found answer, which a gateway whose
// subscription outlived its record gives, is returned only once no other
// answer has come within the stall time after it (Config.GatherStall), or
// after maxAskAnswers not-found answers.
func (f *Fleet) Ask(ctx context.Context, id identity.NodeID, op string, payload []byte) ([]byte, error) {
	sub, err := f.publish(id, op, payload)
	if err != nil {
		return nil, fmt.Errorf("fleet: asking %s of %s: %w", op, id.Short(), err)
	}
	defer sub.Unsubscribe()
	var notFound error
	var by time.Time // zero until the first not-found answer
	for range maxAskAnswers {
		m, err := nextBy(ctx, sub, by)
		switch {
		case errors.Is(err, nats.ErrNoResponders):
			return nil, gateway.ErrNotInFleet
		case err != nil && notFound != nil:
			return nil, notFound // no holder answered in time
		case err != nil:
			return nil, fmt.Errorf("fleet: asking %s of %s: %w", op, id.Short(), err)
		}
		data, err := answerOf(m)
		if !isNotFound(err) {
			return data, err
		}
		if notFound == nil {
			notFound, by = err, time.Now().Add(f.stall)
		}
	}
	return nil, notFound
}

// nextBy returns sub's next message, waiting until ctx ends or, if by is
// not zero, until by.
func nextBy(ctx context.Context, sub *nats.Subscription, by time.Time) (*nats.Msg, error) {
	if by.IsZero() {
		return sub.NextMsgWithContext(ctx)
	}
	ctx, cancel := context.WithDeadline(ctx, by)
	defer cancel()
	return sub.NextMsgWithContext(ctx)
}

// publish sends op about id to every gateway subscribed to it, with the
// answers to a new inbox whose subscription it returns; the caller
// unsubscribes.
func (f *Fleet) publish(id identity.NodeID, op string, payload []byte) (*nats.Subscription, error) {
	inbox := f.nc.NewInbox()
	sub, err := f.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	if err := f.nc.PublishMsg(&nats.Msg{Subject: f.subject(id, op), Reply: inbox, Data: payload}); err != nil {
		return nil, errors.Join(err, sub.Unsubscribe())
	}
	return sub, nil
}

// answerOf is a gateway's answer m: its payload, or its refusal as a
// *connector.RemoteError.
func answerOf(m *nats.Msg) ([]byte, error) {
	text := m.Header.Get(headerError)
	if text == "" {
		return m.Data, nil
	}
	code, _ := strconv.Atoi(m.Header.Get(headerErrorCode))
	return nil, &connector.RemoteError{Code: cmp.Or(code, connector.CodeUnavailable), Text: text}
}

// isNotFound reports a gateway's answer that it does not hold the node.
func isNotFound(err error) bool {
	var re *connector.RemoteError
	return errors.As(err, &re) && re.Code == connector.CodeNotFound
}
