package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"sync"

	"github.com/nats-io/nats.go"
)

// Setup names of the two reference setups this package provides.
const (
	// NATSName names the single-server setup of [NewNATSSetup].
	NATSName = "nats"
	// LeafName names the leaf-node setup of [NewLeafSetup].
	LeafName = "leaf"
)

// A Setup is one way of joining a requester's NATS (side A) to a
// responder's NATS (side B). The benchmarks request and publish on side A
// and answer and count on side B.
type Setup interface {
	// Name identifies the setup in reports: "nats", "leaf", "peerbridge".
	// Names must be unique within a run.
	Name() string
	// Requester is a client connected on side A.
	Requester() *nats.Conn
	// Responder is a client connected on side B.
	Responder() *nats.Conn
	// RequestSubject is the subject side A requests on for a message type,
	// e.g. "bench.echo", or "peer.request.echo" through peerbridge.
	RequestSubject(typ string) string
	// ServeSubject is the subject side B answers or receives on, e.g.
	// "bench.echo", or "peer.recv.echo" through peerbridge.
	ServeSubject(typ string) string
	// SendSubject is the subject side A publishes fire-and-forget messages
	// on, e.g. "bench.echo", or "peer.send.echo" through peerbridge.
	SendSubject(typ string) string
	// Headers are carried by every request and publish (nil for none, a
	// Peer-Node header through peerbridge). They are only read.
	Headers() nats.Header
	// Close tears the setup down, releasing its connections, servers and
	// goroutines.
	Close() error
}

// A SetupFunc creates a Setup, ready to measure: every link up and
// connections established. ctx bounds the creation only; the Setup lives
// until its Close. Run returns its errors as they are, so they should say
// which setup failed.
type SetupFunc func(ctx context.Context) (Setup, error)

// subjectPrefix is the subject space of the plain NATS setups.
const subjectPrefix = "bench."

// plainSetup is a Setup over plain NATS subjects, where side A's subjects
// reach side B unchanged: one server, or servers linked by leaf nodes.
type plainSetup struct {
	name      string
	requester *nats.Conn
	responder *nats.Conn
	servers   []*Server
	closeOnce sync.Once
}

func (p *plainSetup) Name() string                     { return p.name }
func (p *plainSetup) Requester() *nats.Conn            { return p.requester }
func (p *plainSetup) Responder() *nats.Conn            { return p.responder }
func (p *plainSetup) RequestSubject(typ string) string { return subjectPrefix + typ }
func (p *plainSetup) ServeSubject(typ string) string   { return subjectPrefix + typ }
func (p *plainSetup) SendSubject(typ string) string    { return subjectPrefix + typ }
func (p *plainSetup) Headers() nats.Header             { return nil }

// Close closes both connections and stops the servers. It may be called
// more than once.
func (p *plainSetup) Close() error {
	p.closeOnce.Do(func() {
		for _, nc := range []*nats.Conn{p.requester, p.responder} {
			if nc != nil {
				nc.Close()
			}
		}
		for _, s := range p.servers {
			s.Stop()
		}
	})
	return nil
}

// connect attaches the requester to a and the responder to b.
func (p *plainSetup) connect(ctx context.Context, a, b *Server) error {
	var err error
	if p.requester, err = a.Connect(ctx, p.name+"-requester"); err != nil {
		return err
	}
	p.responder, err = b.Connect(ctx, p.name+"-responder")
	return err
}

// NewNATSSetup is the SetupFunc of setup (a), "nats": one embedded
// nats-server, with requester and responder as two connections to it.
func NewNATSSetup(ctx context.Context) (Setup, error) {
	p := &plainSetup{name: NATSName}
	s, err := StartServer(ctx, ServerConfig{Name: "bench-nats"})
	if err != nil {
		return nil, err
	}
	p.servers = append(p.servers, s)
	if err := p.connect(ctx, s, s); err != nil {
		_ = p.Close()
		return nil, err
	}
	return p, nil
}

// NewLeafSetup is the SetupFunc of setup (b), "leaf": two embedded
// nats-servers joined by a leaf-node link, a hub (side B, the responder's)
// and a spoke that connects to it (side A, the requester's). It returns
// once the link is up on both ends and a request has crossed it.
func NewLeafSetup(ctx context.Context) (Setup, error) {
	p := &plainSetup{name: LeafName}
	if err := p.startLeaf(ctx); err != nil {
		_ = p.Close()
		return nil, err
	}
	return p, nil
}

// startLeaf starts hub and spoke, connects the clients and waits until a
// round trip crosses the link.
func (p *plainSetup) startLeaf(ctx context.Context) error {
	hub, err := StartServer(ctx, ServerConfig{Name: "bench-leaf-hub", LeafListen: true})
	if err != nil {
		return err
	}
	p.servers = append(p.servers, hub)
	hubURL, err := hub.LeafURL()
	if err != nil {
		return err
	}
	spoke, err := StartServer(ctx, ServerConfig{Name: "bench-leaf-spoke", LeafRemotes: []*url.URL{hubURL}})
	if err != nil {
		return err
	}
	p.servers = append(p.servers, spoke)
	if err := hub.WaitLeafNodes(ctx, 1); err != nil {
		return err
	}
	if err := spoke.WaitLeafNodes(ctx, 1); err != nil {
		return err
	}
	if err := p.connect(ctx, spoke, hub); err != nil {
		return err
	}
	return awaitRoundTrip(ctx, p)
}

// awaitRoundTrip answers requests on a fresh subject on side B and waits
// until one sent from side A is answered.
func awaitRoundTrip(ctx context.Context, s Setup) error {
	typ := "ready." + rand.Text()
	e, err := startEcho(ctx, s.Responder(), s.ServeSubject(typ))
	if err != nil {
		return fmt.Errorf("bench: %s setup: %w", s.Name(), err)
	}
	defer e.close()
	msg := &nats.Msg{Subject: s.RequestSubject(typ), Header: s.Headers(), Data: []byte("ready")}
	if err := awaitReply(ctx, s.Requester(), msg); err != nil {
		return fmt.Errorf("bench: %s setup: %w", s.Name(), err)
	}
	return nil
}
