package fleet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
)

// DefaultPrefix is the subject prefix of the fleet's asks.
const DefaultPrefix = "peerbridge.fleet"

const (
	// workers serve asks at once: a punch waits for its node's
	// acknowledgement.
	workers = 16
	// queue is how many asks wait for a worker; nats.go drops asks past it
	// (a slow consumer), and their askers time out.
	queue = 1024
)

// Config configures a Fleet. Every zero field means the default named.
type Config struct {
	// Prefix is the subject prefix the fleet's gateways share. Default
	// DefaultPrefix.
	Prefix string
	// GatherStall is how long AskAll waits for another answer after the
	// last one, and how long Ask waits for another holder's answer after
	// a gateway answered that it does not hold the node. Default
	// DefaultGatherStall.
	GatherStall time.Duration
}

// ErrDisconnected reports a gateway that has lost the fleet's NATS.
var ErrDisconnected = errors.New("fleet: not connected to NATS")

// Fleet is one gateway's membership of the fleet sharing a NATS
// connection. The connection is the caller's; Close leaves it open.
type Fleet struct {
	nc     *nats.Conn
	prefix string
	stall  time.Duration
	log    *slog.Logger
	msgs   chan *nats.Msg // every announced node's asks

	mu     sync.Mutex // guards subs and closed
	subs   map[identity.NodeID]*nats.Subscription
	closed bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ gateway.Fleet = (*Fleet)(nil)

// ConnOptions are the options a fleet's NATS connection is best made
// with: nats.NoEcho, so that the server answers a count of a node's
// holders 503 at once when no other gateway holds it, instead of handing
// the ask to this gateway's own subscription (see AskAll).
func ConnOptions() []nats.Option { return []nats.Option{nats.NoEcho()} }

// New returns a fleet member on nc, best connected with ConnOptions. It
// does no I/O.
func New(nc *nats.Conn, cfg Config, log *slog.Logger) *Fleet {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Fleet{
		nc: nc, prefix: cmp.Or(cfg.Prefix, DefaultPrefix), stall: cmp.Or(cfg.GatherStall, DefaultGatherStall), log: log,
		msgs: make(chan *nats.Msg, queue), subs: make(map[identity.NodeID]*nats.Subscription),
		ctx: ctx, cancel: cancel,
	}
}

// Serve answers the asks about announced nodes with h until Close.
func (f *Fleet) Serve(h gateway.FleetHandler) error {
	for range workers {
		f.wg.Go(func() { f.work(h) })
	}
	return nil
}

// Close withdraws every node and stops serving.
func (f *Fleet) Close() error {
	f.mu.Lock()
	f.closed = true
	var errs []error
	for id, s := range f.subs {
		errs = append(errs, ignoreClosed(s.Unsubscribe()))
		delete(f.subs, id)
	}
	f.mu.Unlock()
	f.cancel()
	f.wg.Wait()
	return errors.Join(errs...)
}

func ignoreClosed(err error) error {
	if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrBadSubscription) {
		return nil
	}
	return err
}

// Announce subscribes to id's asks, unless it already is.
func (f *Fleet) Announce(id identity.NodeID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[id]; ok || f.closed {
		return
	}
	s, err := f.nc.ChanSubscribe(f.subject(id, "*"), f.msgs)
	if err != nil {
		f.log.Warn("announcing a node to the fleet", "node", id.Short(), "err", err)
		return // the node's next registration tries again
	}
	f.subs[id] = s
}

// Withdraw unsubscribes from id's asks.
func (f *Fleet) Withdraw(id identity.NodeID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.subs[id]; ok {
		delete(f.subs, id)
		if err := ignoreClosed(s.Unsubscribe()); err != nil {
			f.log.Warn("withdrawing a node from the fleet", "node", id.Short(), "err", err)
		}
	}
}

// Announced returns how many nodes this gateway answers for.
func (f *Fleet) Announced() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// Err is nil while the NATS connection is up.
func (f *Fleet) Err() error {
	if f.nc.IsConnected() {
		return nil
	}
	return fmt.Errorf("%w (%s)", ErrDisconnected, f.nc.Status())
}

func (f *Fleet) subject(id identity.NodeID, op string) string {
	return f.prefix + "." + string(id) + "." + op
}

// The headers of a refusal, as nats.go micro services answer errors.
const (
	headerError     = "Nats-Service-Error"
	headerErrorCode = "Nats-Service-Error-Code"
)

// work answers asks until Close.
func (f *Fleet) work(h gateway.FleetHandler) {
	for {
		select {
		case <-f.ctx.Done():
			return
		case m := <-f.msgs:
			f.answer(h, m)
		}
	}
}

// answer hands one ask to h and replies with its answer or refusal.
func (f *Fleet) answer(h gateway.FleetHandler, m *nats.Msg) {
	rest, ok := strings.CutPrefix(m.Subject, f.prefix+".")
	node, op, ok2 := strings.Cut(rest, ".")
	id, err := identity.ParseNodeID(node)
	if !ok || !ok2 || err != nil || m.Reply == "" {
		return
	}
	ctx, cancel := context.WithTimeout(f.ctx, gateway.FleetTimeout)
	defer cancel()
	reply := nats.NewMsg(m.Reply)
	reply.Data, err = h(ctx, id, op, m.Data)
	if err != nil {
		reply.Data = nil
		code := connector.CodeUnavailable
		var re *connector.RemoteError
		if errors.As(err, &re) {
			code, err = re.Code, errors.New(re.Text)
		}
		reply.Header.Set(headerError, err.Error())
		reply.Header.Set(headerErrorCode, strconv.Itoa(code))
	}
	if err := f.nc.PublishMsg(reply); err != nil {
		f.log.Debug("answering the fleet", "err", err)
	}
}
