package wan

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/natpunch"
)

// HubInfo is what side A needs to reach side B.
type HubInfo struct {
	// LeafURL is where B's hub accepts leaf nodes.
	LeafURL string `json:"leaf"`
	// NodeID and QUIC are B's bridge: node ID and QUIC endpoint.
	NodeID string `json:"node"`
	QUIC   string `json:"quic"`
}

// Hub is side B: a hub nats-server accepting leaf nodes on the side's lab
// address and a bridge, each with an echo responder and a counter behind
// it. Start it with [StartHub] and stop it with [Hub.Close].
type Hub struct {
	srv    *server.Server
	bridge *daemon
	conns  []*nats.Conn
	info   HubInfo
}

// StartHub starts side B on addr, keeping the bridge's key in dir. It must
// run in a process inside B's network namespace.
func StartHub(ctx context.Context, addr netip.Addr, dir string, o Options) (*Hub, error) {
	o.populate()
	if err := SetTCPCongestion(o.TCPCongestion); err != nil {
		return nil, err
	}
	h := &Hub{}
	if err := h.start(ctx, addr, dir, o); err != nil {
		return nil, errors.Join(err, h.Close())
	}
	return h, nil
}

func (h *Hub) start(ctx context.Context, addr netip.Addr, dir string, o Options) error {
	opts := &server.Options{}
	opts.LeafNode.Host, opts.LeafNode.Port = addr.String(), server.RANDOM_PORT
	opts.LeafNode.Compression.Mode = o.LeafCompression
	var err error
	if h.srv, err = startServer(ctx, "wan-hub", opts); err != nil {
		return err
	}
	h.info.LeafURL = leafURL(addr.String(), opts).String()
	if h.bridge, err = startDaemon(ctx, addr, dir, nil, o); err != nil {
		return err
	}
	t := h.bridge.target()
	h.info.NodeID, h.info.QUIC = t.NodeID.String(), t.Endpoint
	if err := h.serve(ctx, h.srv.ClientURL(), "wan-hub-services", leafSubjects); err != nil {
		return err
	}
	return h.serve(ctx, h.bridge.nats.ClientURL, "wan-bridge-services", bridgeServe())
}

// serve connects to url and serves the echo and the counter on s.
func (h *Hub) serve(ctx context.Context, url, name string, s subjects) error {
	nc, err := connect(ctx, url, name)
	if err != nil {
		return err
	}
	h.conns = append(h.conns, nc)
	return serveServices(nc, s)
}

// RelayStats are B's bridge's relay counters: packets relayed to it that
// it took in, and those it dropped (its queue full, or no such session).
func (h *Hub) RelayStats() natpunch.RelayStats { return h.bridge.relayStats() }

// Info is what side A needs to reach this side.
func (h *Hub) Info() HubInfo { return h.info }

// Close stops the services, the bridge and the hub, whatever of them
// started.
func (h *Hub) Close() error {
	for _, nc := range h.conns {
		nc.Close()
	}
	var err error
	if h.bridge != nil {
		err = h.bridge.close()
	}
	if h.srv != nil {
		stopServer(h.srv)
	}
	return err
}

// congestionSysctl is the TCP congestion control of the namespace the
// process runs in.
const congestionSysctl = "/proc/sys/net/ipv4/tcp_congestion_control"

// SetTCPCongestion sets the TCP congestion control of the calling
// process's network namespace; "" leaves it.
func SetTCPCongestion(name string) error {
	if name == "" {
		return nil
	}
	if err := os.WriteFile(congestionSysctl, []byte(name), 0o644); err != nil {
		return fmt.Errorf("wan: tcp congestion control %q: %w", name, err)
	}
	return nil
}
