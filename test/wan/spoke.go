package wan

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch"
)

// Spoke is side A: a leaf nats-server whose remote is B's hub, and a
// bridge with B's bridge as a static peer. Start it with [StartSpoke],
// measure with [Spoke.Run] and stop it with [Spoke.Close].
type Spoke struct {
	leaf   *server.Server
	bridge *daemon
	hub    identity.NodeID
	relay  bool // reach B through the gateway's relay
}

// StartSpoke starts side A on addr, keeping the bridge's key in dir, and
// waits until the leaf link is up. It must run in a process inside A's
// network namespace.
func StartSpoke(ctx context.Context, addr netip.Addr, dir string, hub HubInfo, o Options) (*Spoke, error) {
	o.populate()
	if err := SetTCPCongestion(o.TCPCongestion); err != nil {
		return nil, err
	}
	s := &Spoke{}
	if err := s.start(ctx, addr, dir, hub, o); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

func (s *Spoke) start(ctx context.Context, addr netip.Addr, dir string, hub HubInfo, o Options) error {
	remote, err := url.Parse(hub.LeafURL)
	if err != nil {
		return fmt.Errorf("wan: hub leaf URL: %w", err)
	}
	if s.hub, err = identity.ParseNodeID(hub.NodeID); err != nil {
		return fmt.Errorf("wan: hub node ID: %w", err)
	}
	if o.wants(SystemLeaf) {
		if err := s.startLeaf(ctx, remote, o); err != nil {
			return err
		}
	}
	var peers []connector.Target
	if !o.Relay {
		peers = []connector.Target{{NodeID: s.hub, Endpoint: hub.QUIC}}
	}
	s.relay = o.Relay
	s.bridge, err = startDaemon(ctx, addr, dir, peers, o)
	return err
}

// startLeaf starts the leaf server and waits for its link to the hub.
func (s *Spoke) startLeaf(ctx context.Context, remote *url.URL, o Options) error {
	opts := &server.Options{}
	opts.LeafNode.Remotes = []*server.RemoteLeafOpts{{
		URLs:        []*url.URL{remote},
		Compression: server.CompressionOpts{Mode: o.LeafCompression},
	}}
	var err error
	if s.leaf, err = startServer(ctx, "wan-leaf", opts); err != nil {
		return err
	}
	return waitLeafNodes(ctx, s.leaf)
}

// systems are the ways to B that were started, leaf first.
func (s *Spoke) systems() []system {
	var all []system
	if s.leaf != nil {
		all = append(all, system{name: SystemLeaf, url: s.leaf.ClientURL(), subj: leafSubjects})
	}
	h := nats.Header{bridge.HeaderNode: {s.hub.String()}}
	if s.relay {
		h.Set(bridge.HeaderPunch, bridge.PunchSkip)
	}
	return append(all, system{name: SystemBridge, url: s.bridge.nats.ClientURL, subj: bridgeSend(), header: h})
}

// Run measures request-reply and then fire-and-forget through the leaf
// link and through the bridges.
func (s *Spoke) Run(ctx context.Context, o Options) (Result, error) {
	o.populate()
	res := Result{Options: o}
	for _, sys := range s.systems() {
		if !o.wants(sys.name) {
			continue
		}
		r, err := measure(ctx, sys, o)
		if err != nil {
			return res, fmt.Errorf("wan: %s: %w", sys.name, err)
		}
		r.System = sys.name
		res.Systems = append(res.Systems, r)
	}
	if s.relay {
		st := s.RelayStats()
		res.Relay = &RelayCounts{Delivered: st.Delivered, Dropped: st.Dropped}
	}
	return res, nil
}

// measure runs both loads through one system.
func measure(ctx context.Context, sys system, o Options) (SystemResult, error) {
	var r SystemResult
	var err error
	if r.Requests, err = runRequests(ctx, sys, o); err != nil {
		return r, err
	}
	if r.Blast, err = runBlast(ctx, sys, o); err != nil || o.Burst == 0 {
		return r, err
	}
	burst, err := runBurst(ctx, sys, o)
	r.Burst = &burst
	return r, err
}

// RelayStats are A's bridge's relay counters, as [Hub.RelayStats].
func (s *Spoke) RelayStats() natpunch.RelayStats { return s.bridge.relayStats() }

// Close stops the bridge and the leaf server, whatever of them started.
func (s *Spoke) Close() error {
	var err error
	if s.bridge != nil {
		err = s.bridge.close()
	}
	if s.leaf != nil {
		stopServer(s.leaf)
	}
	return err
}
