package natsconn

import (
	"context"
	"fmt"
	"strconv"
)

// Publish buffers a message for the flusher, which writes it promptly,
// coalesced with whatever else is buffered by then. A non-empty header, a
// complete block (see Header and AppendHeader), makes it an HPUB. Publish
// never blocks on the network: it returns ErrPendingFull when more than
// Options.MaxPending bytes wait to be written, ErrMaxPayload when header
// and data exceed the server's max_payload, ErrBadSubject for an invalid
// subject or reply, and Err once the Conn is closed. It keeps no reference
// to header or data.
func (c *Conn) Publish(subject, reply string, header, data []byte) error {
	if err := c.checkPublish(subject, reply, header, data); err != nil {
		return err
	}
	c.wmu.Lock()
	if err := c.writableLocked(len(subject) + len(reply) + len(header) + len(data)); err != nil {
		c.wmu.Unlock()
		return err
	}
	c.wbuf = appendPub(c.wbuf, subject, reply, header, data)
	c.wmu.Unlock()
	c.wake()
	return nil
}

func (c *Conn) checkPublish(subject, reply string, header, data []byte) error {
	if err := checkSubject(subject, false); err != nil {
		return err
	}
	if reply != "" {
		if err := checkSubject(reply, false); err != nil {
			return err
		}
	}
	if n := len(header) + len(data); n > c.parser.maxPayload {
		return fmt.Errorf("%w: %d bytes, server takes %d", ErrMaxPayload, n, c.parser.maxPayload)
	}
	if len(header) == 0 {
		return nil
	}
	if !c.server.Headers {
		return ErrHeadersNotSupported
	}
	if !Header(header).Valid() {
		return fmt.Errorf("%w: %q", ErrBadHeader, snippet(header))
	}
	return nil
}

// Flush waits until the server has read everything buffered before it: it
// sends a PING and waits for its PONG.
func (c *Conn) Flush(ctx context.Context) error {
	pong := make(chan struct{})
	if err := c.writeControl("PING\r\n", pong); err != nil {
		return err
	}
	select {
	case <-pong:
		return nil
	case <-c.done:
		return c.Err()
	case <-ctx.Done():
		return fmt.Errorf("natsconn: flush: %w", context.Cause(ctx))
	}
}

// Buffered is the number of bytes published but not yet written.
func (c *Conn) Buffered() int {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return len(c.wbuf) + c.inflight
}

// writableLocked returns why n more bytes of messages cannot be buffered.
func (c *Conn) writableLocked(n int) error {
	if c.closing {
		return c.closedErrLocked()
	}
	if pending := len(c.wbuf) + c.inflight; pending+n > c.opts.MaxPending {
		return fmt.Errorf("%w: %d bytes pending", ErrPendingFull, pending)
	}
	return nil
}

// closedErrLocked says why the Conn takes no more writes.
func (c *Conn) closedErrLocked() error {
	if c.err != nil {
		return c.err
	}
	return ErrClosed
}

// writeControl buffers a protocol line that MaxPending does not bound; a
// PING comes with the channel its PONG closes (nil: nobody waits).
func (c *Conn) writeControl(line string, pong chan struct{}) error {
	c.wmu.Lock()
	if c.closing {
		err := c.closedErrLocked()
		c.wmu.Unlock()
		return err
	}
	c.wbuf = append(c.wbuf, line...)
	if line == "PING\r\n" {
		c.pongs = append(c.pongs, pong)
	}
	c.wmu.Unlock()
	c.wake()
	return nil
}

func (c *Conn) wake() {
	select {
	case c.kick <- struct{}{}:
	default: // a kick is pending: the flusher will see this write too
	}
}

// appendPub appends PUB, or HPUB when there is a header, to b.
func appendPub(b []byte, subject, reply string, header, data []byte) []byte {
	if len(header) == 0 {
		b = append(b, "PUB "...)
	} else {
		b = append(b, "HPUB "...)
	}
	b = append(b, subject...)
	b = append(b, ' ')
	if reply != "" {
		b = append(b, reply...)
		b = append(b, ' ')
	}
	if len(header) > 0 {
		b = strconv.AppendInt(b, int64(len(header)), 10)
		b = append(b, ' ')
	}
	b = strconv.AppendInt(b, int64(len(header)+len(data)), 10)
	b = append(b, "\r\n"...)
	b = append(b, header...)
	b = append(b, data...)
	return append(b, "\r\n"...)
}
