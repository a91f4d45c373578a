package natsconn

import (
	"context"
	"errors"
	"strconv"
)

// Subscription is interest in a subject, made by Subscribe.
type Subscription struct {
	conn    *Conn
	sid     uint64
	subject string
	queue   string
	handler Handler
}

// Subscribe asks the server for the messages on subject (wildcards
// allowed), shared with the other members of queue when it is not empty,
// and hands each to h on the reader goroutine (see Handler and Msg). It
// does not wait for the server: Flush after it to know the server has it.
// A permissions violation arrives later, through Options.ErrorHandler.
func (c *Conn) Subscribe(subject, queue string, h Handler) (*Subscription, error) {
	if err := checkSubject(subject, true); err != nil {
		return nil, err
	}
	if err := checkQueue(queue); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, errors.New("natsconn: nil handler")
	}
	c.smu.Lock()
	c.nextSID++
	s := &Subscription{conn: c, sid: c.nextSID, subject: subject, queue: queue, handler: h}
	c.subs[s.sid] = s
	c.smu.Unlock()
	if err := c.writeControl(string(appendSub(nil, s)), nil); err != nil {
		c.forget(s)
		return nil, err
	}
	return s, nil
}

// Subject is the subject the subscription was made on.
func (s *Subscription) Subject() string { return s.subject }

// Unsubscribe ends the subscription; messages the server sent before it
// read the UNSUB are dropped. It is idempotent.
func (s *Subscription) Unsubscribe() error {
	if !s.conn.forget(s) {
		return nil
	}
	return s.conn.writeControl("UNSUB "+strconv.FormatUint(s.sid, 10)+"\r\n", nil)
}

// forget removes s and reports whether it was there.
func (c *Conn) forget(s *Subscription) bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	_, ok := c.subs[s.sid]
	delete(c.subs, s.sid)
	return ok
}

// appendSub appends "SUB <subject> [queue] <sid>\r\n".
func appendSub(b []byte, s *Subscription) []byte {
	b = append(b, "SUB "...)
	b = append(b, s.subject...)
	b = append(b, ' ')
	if s.queue != "" {
		b = append(b, s.queue...)
		b = append(b, ' ')
	}
	b = strconv.AppendUint(b, s.sid, 10)
	return append(b, "\r\n"...)
}

// Drain ends the subscription without losing what the server already sent
// for it: it sends UNSUB, keeps handing messages to the handler until the
// server has answered a PING sent after it, and then forgets the
// subscription. If ctx ends or the Conn closes first, the subscription is
// forgotten at once and Drain returns why.
func (s *Subscription) Drain(ctx context.Context) error {
	c := s.conn
	c.smu.RLock()
	_, ok := c.subs[s.sid]
	c.smu.RUnlock()
	if !ok {
		return nil
	}
	defer c.forget(s)
	if err := c.writeControl("UNSUB "+strconv.FormatUint(s.sid, 10)+"\r\n", nil); err != nil {
		return err
	}
	return c.Flush(ctx)
}
