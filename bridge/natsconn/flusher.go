package natsconn

import (
	"fmt"
	"time"
)

// maxKeptBuffer: a write buffer larger than this is kept for reuse only
// while writes fill a quarter of it; once the burst that grew it is over, it
// is dropped.
const maxKeptBuffer = 1 << 20

// flushLoop writes what is buffered whenever a write wakes it. While it
// writes, new messages gather in the other buffer: under load each write
// carries many messages.
func (c *Conn) flushLoop() {
	defer close(c.flushed)
	for {
		select {
		case <-c.kick:
		case <-c.stop:
			c.writeOut() // Close: what is left, best effort
			return
		case <-c.done:
			return
		}
		if err := c.writeOut(); err != nil {
			c.fail(err)
			return
		}
	}
}

// writeOut swaps the buffer out and writes it.
func (c *Conn) writeOut() error {
	c.wmu.Lock()
	buf := c.wbuf
	c.wbuf, c.spare, c.inflight = c.spare[:0], nil, len(buf)
	c.wmu.Unlock()
	if len(buf) == 0 {
		return nil
	}
	err := c.write(buf)
	c.wmu.Lock()
	c.inflight = 0
	if cap(buf) <= maxKeptBuffer || len(buf) >= cap(buf)/4 {
		c.spare = buf[:0]
	}
	c.wmu.Unlock()
	return err
}

func (c *Conn) write(buf []byte) error {
	c.conn.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	if _, err := c.conn.Write(buf); err != nil {
		return fmt.Errorf("%w: write: %w", ErrConnectionLost, err)
	}
	return nil
}

// pingLoop PINGs the server every PingInterval and closes the Conn when
// MaxPingsOut of them are unanswered.
func (c *Conn) pingLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		c.wmu.Lock()
		stale := c.pingsOut >= c.opts.MaxPingsOut
		c.pingsOut++
		c.wmu.Unlock()
		if stale {
			c.fail(ErrStaleConnection)
			return
		}
		c.writeControl("PING\r\n", nil)
	}
}
