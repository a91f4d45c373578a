package natsconn

import (
	"context"
	"fmt"
	"net"
	"sync"
)

// Conn is one client connection to a NATS server, speaking the protocol
// itself. It owns a reader goroutine that parses what the server sends and
// runs Handlers, a flusher goroutine that writes what Publish buffers, and
// a pinger; Close stops them and waits for them. A Conn does not
// reconnect: when the connection breaks, Done is closed and Err says why.
// Its methods are safe for concurrent use.
type Conn struct {
	conn   net.Conn
	opts   Options
	server serverInfo // written by the handshake, read-only after
	parser *parser
	rbuf   []byte

	handshaking bool // set before the reader starts, cleared before it starts
	gotInfo     bool // handshake progress, handshake only
	gotPong     bool

	wmu      sync.Mutex      // guards the fields below, up to smu
	wbuf     []byte          // protocol waiting for the flusher
	spare    []byte          // the flusher's last buffer, kept for reuse
	inflight int             // bytes the flusher is writing now
	pongs    []chan struct{} // one per PING sent, in order; nil for the pinger's
	pingsOut int             // pinger's PINGs unanswered
	closing  bool            // no more writes: Close was called or the Conn failed
	err      error           // why the Conn closed; set once, with done

	smu     sync.RWMutex // guards subs and nextSID
	subs    map[uint64]*Subscription
	nextSID uint64

	kick     chan struct{} // size 1: wakes the flusher; one pending kick covers every later write
	stop     chan struct{} // closed by Close: the flusher writes what is left and returns
	stopOnce sync.Once
	flushed  chan struct{} // closed when the flusher has returned
	done     chan struct{} // closed when the Conn is closed; err is set
	failOnce sync.Once
	wg       sync.WaitGroup // reader and pinger
}

// New runs the NATS handshake on conn (INFO, CONNECT, PING/PONG), bounded
// by ctx, and starts the Conn's goroutines. On error it closes conn.
func New(ctx context.Context, conn net.Conn, opts Options) (*Conn, error) {
	opts.populate()
	if err := opts.validate(); err != nil {
		conn.Close()
		return nil, err
	}
	c := &Conn{
		conn:    conn,
		opts:    opts,
		rbuf:    make([]byte, opts.ReadBufferSize),
		subs:    make(map[uint64]*Subscription),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		flushed: make(chan struct{}),
		done:    make(chan struct{}),
	}
	c.parser = newParser(c, opts.MaxControlLine)
	if err := c.handshake(ctx); err != nil {
		c.conn.Close()
		return nil, err
	}
	c.wg.Add(1)
	go c.readLoop()
	go c.flushLoop()
	if c.opts.PingInterval > 0 {
		c.wg.Add(1)
		go c.pingLoop()
	}
	return c, nil
}

// Close writes what is buffered (each write bounded by
// Options.WriteTimeout), closes the connection and waits for the Conn's
// goroutines. Call Flush first to know the server has read everything.
// Close is idempotent; it returns nil.
func (c *Conn) Close() error {
	c.stopOnce.Do(func() {
		c.wmu.Lock()
		c.closing = true
		c.wmu.Unlock()
		close(c.stop)
	})
	<-c.flushed
	c.fail(ErrClosed)
	c.wg.Wait()
	return nil
}

// Done is closed when the Conn is closed, by Close or because the
// connection failed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the Conn closed: ErrClosed after Close; an error
// matching ErrConnectionLost when the connection broke; a *ServerError
// after a fatal -ERR; ErrStaleConnection when PINGs went unanswered. It
// returns nil while the Conn is open.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// MaxPayload is the largest header block plus payload the server takes.
func (c *Conn) MaxPayload() int { return c.parser.maxPayload }

// ServerID is the ID of the server, from its INFO.
func (c *Conn) ServerID() string { return c.server.ServerID }

// fail closes the Conn for err, once.
func (c *Conn) fail(err error) {
	c.failOnce.Do(func() {
		c.wmu.Lock()
		c.err, c.closing = err, true
		c.wmu.Unlock()
		close(c.done)
		c.conn.Close()
	})
}

func (c *Conn) readLoop() {
	defer c.wg.Done()
	for {
		n, err := c.conn.Read(c.rbuf)
		if n > 0 {
			if perr := c.parser.parse(c.rbuf[:n]); perr != nil {
				c.fail(perr)
				return
			}
		}
		if err != nil {
			c.fail(fmt.Errorf("%w: read: %w", ErrConnectionLost, err))
			return
		}
	}
}

// deliver runs the handler of subscription sid; a message for a
// subscription already gone is dropped.
func (c *Conn) deliver(sid uint64, m *Msg) {
	c.smu.RLock()
	s := c.subs[sid]
	c.smu.RUnlock()
	if s != nil {
		s.handler(m)
	}
}

func (c *Conn) ping() { c.writeControl("PONG\r\n", nil) }

func (c *Conn) pong() {
	if c.handshaking {
		c.gotPong = true
		return
	}
	c.wmu.Lock()
	if len(c.pongs) == 0 {
		c.wmu.Unlock()
		return
	}
	ch := c.pongs[0]
	c.pongs = c.pongs[1:]
	c.pingsOut = 0
	c.wmu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// serverErr hears a -ERR; a fatal one, or any during the handshake, stops
// the parser and so closes the Conn with it.
func (c *Conn) serverErr(text []byte) error {
	e := newServerError(string(text))
	if c.opts.ErrorHandler != nil {
		c.opts.ErrorHandler(e)
	}
	if e.Fatal() || c.handshaking {
		return e
	}
	return nil
}
