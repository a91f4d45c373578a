package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
)

// Connector sends to and receives from peers over pooled QUIC connections
// that share one UDP socket. Create it with New, bind it with Start, and stop
// it with Close.
type Connector struct {
	cfg      Config
	id       *identity.Identity
	log      *slog.Logger
	quicConf *quic.Config
	epoch    time.Time
	handler  atomic.Pointer[Handler]
	router   atomic.Pointer[Router]
	events   atomic.Pointer[func(Event)]
	stats    counters
	pool     *pool
	queues   sendQueues
	scratch  sync.Pool     // *batchScratch, for the send queues' workers
	closing  atomic.Bool   // Shutdown began: new sends and requests are refused
	ackIdle  time.Duration // ackReaderIdle; read-only after New

	// Limits on what peers can make this node hold (see limits.go).
	conns          *connLimits // inbound connection slots
	frames         *memBudget  // memory of frames still arriving, all connections
	reqBytes       *memBudget  // payload bytes of inbound requests being served
	inboundReqs    atomic.Int64
	inboundStreams atomic.Int64
	refusals       ratelimit.Warnings // rate-limits the warnings about refusals

	// Set by Start, read-only afterwards.
	udp  *net.UDPConn
	sock *filterConn // udp as quic-go reads it
	tr   *quic.Transport
	ln   *quic.Listener

	ctx    context.Context // lifetime, cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	goMu   sync.Mutex // orders goroutine starts by goOwned before Close's cancel

	closeOnce sync.Once
	closeErr  error // what the one real Close returned
}

// New returns a connector for the node id. It does no I/O: Start binds the
// socket.
func New(cfg Config, id *identity.Identity, log *slog.Logger) (*Connector, error) {
	cfg.populate()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if id == nil {
		return nil, errors.New("connector: nil identity")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Connector{cfg: cfg, id: id, log: log, epoch: time.Now(), pool: newPool(), ackIdle: ackReaderIdle,
		conns:    newConnLimits(cfg.MaxConns, cfg.MaxConnsPerIP),
		frames:   &memBudget{limit: int64(cfg.FrameBudget)},
		reqBytes: &memBudget{limit: int64(cfg.MaxInboundRequestBytes)},
		queues:   sendQueues{byKey: make(map[string]*sendQueue)},
	}
	c.quicConf = c.newQUICConfig()
	return c, nil
}

func (c *Connector) newQUICConfig() *quic.Config {
	keepAlive := max(c.cfg.KeepAlive, 0)
	return &quic.Config{
		HandshakeIdleTimeout:  c.cfg.DialTimeout,
		MaxIdleTimeout:        max(30*time.Second, 2*keepAlive),
		KeepAlivePeriod:       keepAlive,
		MaxIncomingStreams:    int64(c.cfg.MaxStreams),
		MaxIncomingUniStreams: -1,
	}
}

// Start binds the UDP socket, starts accepting connections and starts the
// idle janitor. ctx bounds only the start itself.
func (c *Connector) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	laddr, err := net.ResolveUDPAddr("udp", c.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("connector: listen address %q: %w", c.cfg.ListenAddr, err)
	}
	udp, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return fmt.Errorf("connector: listening on %s: %w", c.cfg.ListenAddr, err)
	}
	return c.StartOn(udp)
}

// StartOn is Start on a socket the caller made, for example one created
// inside another network namespace. The connector owns it from now on.
func (c *Connector) StartOn(udp *net.UDPConn) error {
	key := quic.StatelessResetKey(c.id.StatelessResetKey())
	c.udp, c.sock = udp, newFilterConn(udp)
	c.tr = &quic.Transport{Conn: c.sock, StatelessResetKey: &key, ConnContext: c.admitConn, VerifySourceAddress: c.validateSource}
	ln, err := c.tr.Listen(c.id.ServerTLS(), c.quicConf)
	if err != nil {
		c.tr.Close()
		udp.Close()
		return fmt.Errorf("connector: quic listen: %w", err)
	}
	c.ln = ln
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.wg.Add(2)
	go c.acceptLoop()
	go c.janitor()
	c.log.Info("connector listening", "addr", udp.LocalAddr().String(), "node", c.id.NodeID().String())
	return nil
}

// Close closes every connection and the socket, and waits for the
// connector's goroutines to end. Later calls return what the first returned.
func (c *Connector) Close() error {
	if c.cancel == nil {
		return nil
	}
	c.closeOnce.Do(func() { c.closeErr = c.close() })
	return c.closeErr
}

func (c *Connector) close() error {
	c.closing.Store(true)
	c.queues.close()
	c.goMu.Lock()
	c.cancel()
	c.goMu.Unlock()
	c.ln.Close()
	for _, pc := range c.pool.closeAll() {
		pc.close(codeShutdown, "shutdown")
	}
	c.wg.Wait()
	err := c.tr.Close()
	return errors.Join(err, c.udp.Close())
}

// goOwned runs f on a goroutine that Close waits for, and reports false,
// without running f, once the connector is closing.
func (c *Connector) goOwned(f func()) bool {
	c.goMu.Lock()
	defer c.goMu.Unlock()
	if c.ctx.Err() != nil {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}

// SetHandler sets the handler for inbound messages. Until it is set, inbound
// requests are answered with 503.
func (c *Connector) SetHandler(h Handler) { c.handler.Store(&h) }

func (c *Connector) getHandler() Handler {
	if h := c.handler.Load(); h != nil {
		return *h
	}
	return nil
}

// NodeID returns this node's ID.
func (c *Connector) NodeID() identity.NodeID { return c.id.NodeID() }

// Addr returns the bound UDP address.
func (c *Connector) Addr() netip.AddrPort {
	return c.udp.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Transport returns the QUIC transport that owns the UDP socket. NAT
// traversal sends its own packets through it (WriteTo) and takes those
// that arrive with SetNonQUICHandler (or ReadNonQUICPacket without one).
func (c *Connector) Transport() *quic.Transport { return c.tr }

// Stats returns a snapshot of the counters.
func (c *Connector) Stats() Stats {
	s := c.stats.snapshot()
	s.Conns = c.pool.len()
	s.InboundConns = c.conns.load()
	s.InboundRequests = c.inboundReqs.Load()
	s.FrameBytes, s.FrameBytesPeak = c.frames.used.Load(), c.frames.peak.Load()
	s.InboundRequestBytes, s.InboundRequestBytesPeak = c.reqBytes.used.Load(), c.reqBytes.peak.Load()
	s.Queues, s.QueuedBytes, s.QueuedBytesPeak = c.queues.load()
	return s
}

// AddAddress records that node id can be reached at endpoint ("host:port"),
// so that a target naming only the node ID can be dialled: a static peer.
// No endpoint hint in a message replaces it, even one where the node
// proves its ID.
func (c *Connector) AddAddress(id identity.NodeID, endpoint string) {
	c.pool.setStaticAddr(id, endpoint)
}

func (c *Connector) acceptLoop() {
	defer c.wg.Done()
	for {
		qc, err := c.ln.Accept(c.ctx)
		if err != nil {
			return
		}
		// A refusal over a limit is counted and logged, rate-limited, by
		// refuseConn; a flood must not flood the log.
		if _, err := c.adopt(qc, PathDirect); err != nil && !errors.Is(err, errTooManyConnsOfPeer) {
			c.log.Warn("rejecting inbound connection", "remote", qc.RemoteAddr().String(), "err", err)
		}
	}
}

// now is the connector's monotonic clock, in nanoseconds since New.
func (c *Connector) now() int64 { return int64(time.Since(c.epoch)) }

func (c *Connector) janitor() {
	defer c.wg.Done()
	// Idle request streams go after ackIdle, like idle message streams, so
	// the janitor looks at least that often.
	// Sends whose deadline passed are swept as often, and a slow peer is
	// found within a quarter of AckTimeout.
	tick := min(max(c.cfg.IdleTimeout/4, 5*time.Millisecond), 15*time.Second, max(c.ackIdle, 5*time.Millisecond),
		max(c.cfg.AckTimeout/4, 5*time.Millisecond))
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			now := c.now()
			for _, pc := range c.pool.idle(now, int64(c.cfg.IdleTimeout)) {
				c.stats.evictions.Add(1)
				pc.close(codeIdle, "idle")
			}
			for _, pc := range c.pool.live() {
				pc.reqs.trim(now - int64(c.ackIdle))
			}
			c.sweepSends(now)
			c.pool.prune(time.Now())
		}
	}
}
