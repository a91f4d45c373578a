package bench

import (
	"context"
	"errors"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge"
)

// PeerbridgeName names setup (c), [NewPeerbridgeSetup].
const PeerbridgeName = "peerbridge"

// peerbridgeSetup is setup (c): two peerbridge nodes joined over QUIC on
// loopback. The requester is a client of node A's nats-server, the
// responder of node B's; requests and messages cross A's bridge, the QUIC
// connection and B's bridge.
type peerbridgeSetup struct {
	a, b      *bridgeNode
	requester *nats.Conn
	responder *nats.Conn
	headers   nats.Header
	closeOnce sync.Once
	closeErr  error
}

// NewPeerbridgeSetup is the SetupFunc of setup (c), "peerbridge": two
// embedded nats-servers, each with its own connector and bridge as the
// daemon runs them (the bridge connected to its server in process), the
// two connectors joined over QUIC on loopback. Node A knows B's endpoint,
// so messages name B by node ID alone (one Peer-Node header). It returns
// once a request has crossed, so the QUIC connection is pooled.
func NewPeerbridgeSetup(ctx context.Context) (Setup, error) {
	p := &peerbridgeSetup{}
	if err := p.start(ctx); err != nil {
		return nil, errors.Join(err, p.Close())
	}
	return p, nil
}

func (p *peerbridgeSetup) start(ctx context.Context) error {
	var err error
	if p.a, err = startBridgeNode(ctx, "bench-peerbridge-a"); err != nil {
		return err
	}
	if p.b, err = startBridgeNode(ctx, "bench-peerbridge-b"); err != nil {
		return err
	}
	b := p.b.target()
	p.a.conn.AddAddress(b.NodeID, b.Endpoint)
	p.headers = nats.Header{bridge.HeaderNode: {b.NodeID.String()}}
	if p.requester, err = p.a.srv.Connect(ctx, PeerbridgeName+"-requester"); err != nil {
		return err
	}
	if p.responder, err = p.b.srv.Connect(ctx, PeerbridgeName+"-responder"); err != nil {
		return err
	}
	return awaitRoundTrip(ctx, p)
}

func (p *peerbridgeSetup) Name() string          { return PeerbridgeName }
func (p *peerbridgeSetup) Requester() *nats.Conn { return p.requester }
func (p *peerbridgeSetup) Responder() *nats.Conn { return p.responder }
func (p *peerbridgeSetup) Headers() nats.Header  { return p.headers }

func (p *peerbridgeSetup) RequestSubject(typ string) string {
	return bridge.DefaultPrefix + ".request." + typ
}

func (p *peerbridgeSetup) ServeSubject(typ string) string {
	return bridge.DefaultPrefix + ".recv." + typ
}

func (p *peerbridgeSetup) SendSubject(typ string) string {
	return bridge.DefaultPrefix + ".send." + typ
}

// Close closes the clients, then both nodes. It may be called more than
// once.
func (p *peerbridgeSetup) Close() error {
	p.closeOnce.Do(func() {
		for _, nc := range []*nats.Conn{p.requester, p.responder} {
			if nc != nil {
				nc.Close()
			}
		}
		var errs []error
		for _, n := range []*bridgeNode{p.a, p.b} {
			if n != nil {
				errs = append(errs, n.close())
			}
		}
		p.closeErr = errors.Join(errs...)
	})
	return p.closeErr
}
