package bench

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector/identity"
)

const (
	// holType is the message type of the head-of-line scenario.
	holType = "hol"
	// holPending is how many sends to the black hole are kept pending.
	holPending = 20
)

// headOfLine times acknowledged 128 B sends through a bridge to a healthy,
// pooled peer, first alone and then while holPending sends to a black-hole
// peer (a static peer whose UDP socket reads and drops everything) are
// pending in the same bridge: each one answered is replaced. Its figure is
// the ratio of the two p99 latencies; a bridge whose sends to one peer wait
// behind another's dial has one far above 1.
func (o ExtraOptions) headOfLine(ctx context.Context, progress func(string)) (map[string]float64, error) {
	a, err := startBridgeNode(ctx, "bench-hol")
	if err != nil {
		return nil, err
	}
	defer a.close()
	sinks, err := startSinks(ctx, 1)
	defer closeAll(sinks)
	if err != nil {
		return nil, fmt.Errorf("head-of-line: %w", err)
	}
	hole, err := startBlackHole()
	if err != nil {
		return nil, err
	}
	defer hole.close()
	deadID, err := identity.Generate()
	if err != nil {
		return nil, err
	}
	a.conn.AddAddress(deadID.NodeID(), hole.addr())
	nc, err := a.srv.Connect(ctx, "hol-sender")
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	healthy, _ := fanoutMsgs(a.conn, sinks)
	healthy.Subject = bridge.DefaultPrefix + ".send." + holType
	base, hol, err := o.timeHeadOfLine(ctx, nc, healthy, deadID.NodeID())
	if err != nil {
		return nil, err
	}
	progress(fmt.Sprintf("head-of-line: p99 %.1fus alone, %.1fus with %d sends pending to a black hole", base.p99(), hol.p99(), holPending))
	return map[string]float64{
		"hol_base_p99_us": base.p99(),
		"hol_p99_us":      hol.p99(),
		"hol_p99_ratio":   hol.p99() / base.p99(),
		"hol_sends":       float64(hol.count()),
	}, nil
}

// holRounds is how many times the scenario alternates between sends alone
// and sends with the black hole's pending, so that both see the same
// conditions on a shared machine.
const holRounds = 3

// timeHeadOfLine times sends of msg, in holRounds rounds of sends alone
// and sends while holPending sends to dead are pending.
func (o ExtraOptions) timeHeadOfLine(ctx context.Context, nc *nats.Conn, msg *nats.Msg, dead identity.NodeID) (base, hol *sampler, err error) {
	base, hol = newSampler(), newSampler()
	per := ExtraOptions{PooledSends: max(o.PooledSends/holRounds, 1), Duration: o.Duration / holRounds}
	for range holRounds {
		if err := per.timeSends(ctx, nc, msg, base); err != nil {
			return nil, nil, fmt.Errorf("head-of-line, no black hole: %w", err)
		}
		p, err := keepPending(nc, dead)
		if err != nil {
			return nil, nil, err
		}
		err = per.timeSends(ctx, nc, msg, hol)
		if werr := p.stop(ctx); err == nil {
			err = werr
		}
		if err != nil {
			return nil, nil, fmt.Errorf("head-of-line, with a black hole: %w", err)
		}
	}
	return base, hol, nil
}

// timeSends times acknowledged sends of msg, one after another, into s.
func (o ExtraOptions) timeSends(ctx context.Context, nc *nats.Conn, msg *nats.Msg, s *sampler) error {
	for range 10 {
		_ = fanoutOnce(ctx, nc, msg, 1) // warm-up; failures show below
	}
	deadline := time.Now().Add(o.Duration)
	for i := 0; i < o.PooledSends && time.Now().Before(deadline); i++ {
		if err := s.time(func() error { return fanoutOnce(ctx, nc, msg, 1) }); err != nil {
			return err
		}
	}
	return nil
}

// pendingSends keeps holPending sends to a node pending: each one answered
// is replaced, until stop.
type pendingSends struct {
	sub     *nats.Subscription
	answers chan *nats.Msg
	done    chan struct{}
	wg      sync.WaitGroup
	out     int // sends published and not yet answered; the refill goroutine's until stop
}

// keepPending publishes holPending sends to node with a reply subject, and
// another one whenever one is answered, until stop is called.
func keepPending(nc *nats.Conn, node identity.NodeID) (*pendingSends, error) {
	inbox := nats.NewInbox()
	p := &pendingSends{answers: make(chan *nats.Msg, holPending), done: make(chan struct{})} // room for every pending send's answer at once
	var err error
	if p.sub, err = nc.ChanSubscribe(inbox, p.answers); err != nil {
		return nil, fmt.Errorf("head-of-line: %w", err)
	}
	msg := &nats.Msg{Subject: bridge.DefaultPrefix + ".send." + holType, Reply: inbox,
		Header: nats.Header{bridge.HeaderNode: {node.String()}}, Data: payload(128)}
	for range holPending {
		if err := nc.PublishMsg(msg); err != nil {
			p.sub.Unsubscribe()
			return nil, fmt.Errorf("head-of-line: %w", err)
		}
		p.out++
	}
	p.wg.Go(func() {
		for {
			select {
			case <-p.answers:
				if nc.PublishMsg(msg) != nil {
					p.out-- // one fewer pending
				}
			case <-p.done:
				return
			}
		}
	})
	return p, nil
}

// stop ends the refills and waits until every send is answered, so that
// what follows runs with none pending.
func (p *pendingSends) stop(ctx context.Context) error {
	close(p.done)
	p.wg.Wait()
	defer p.sub.Unsubscribe()
	for ; p.out > 0; p.out-- {
		select {
		case <-p.answers:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the black hole's answers: %w", ctx.Err())
		}
	}
	return nil
}

// blackHole is a loopback UDP socket that reads and drops everything: a
// peer behind a firewall that drops packets, as a dialler sees it.
type blackHole struct {
	conn *net.UDPConn
	done chan struct{}
}

func startBlackHole() (*blackHole, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(loopback)})
	if err != nil {
		return nil, fmt.Errorf("bench: black hole: %w", err)
	}
	h := &blackHole{conn: c, done: make(chan struct{})}
	go func() {
		defer close(h.done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return h, nil
}

func (h *blackHole) addr() string { return h.conn.LocalAddr().String() }

func (h *blackHole) close() {
	h.conn.Close()
	<-h.done
}
