package status

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// Bridge is one bridge Discover found.
type Bridge struct {
	// Node is the bridge's node ID, from the service's metadata.
	Node string `json:"node"`
	// ID is the service instance's ID on NATS.
	ID string `json:"id"`
	// Version is the service's version.
	Version string `json:"version"`
	// Peers are its pooled peer connections.
	Peers []Peer `json:"peers"`
	// Error says why the peers could not be read; Peers is then empty.
	Error string `json:"error,omitempty"`
}

// ErrNoBridges reports that no bridge answered.
var ErrNoBridges = errors.New("status: no peerbridge service answered")

// Discover finds every bridge on nc's NATS: it asks $SRV.INFO.peerbridge,
// takes every answer until ctx is done (it bounds the whole call, so give it
// a deadline), then asks each bridge for its peers. Bridges are sorted by
// node ID.
func Discover(ctx context.Context, nc *nats.Conn) ([]Bridge, error) {
	infos, err := gatherInfos(ctx, nc)
	if err != nil {
		return nil, err
	}
	if len(infos) == 0 {
		return nil, ErrNoBridges
	}
	out := make([]Bridge, 0, len(infos))
	for _, info := range infos {
		out = append(out, askPeers(nc, info))
	}
	slices.SortFunc(out, func(a, b Bridge) int { return cmp.Compare(a.Node, b.Node) })
	return out, nil
}

// gatherInfos collects the INFO answers that arrive before ctx is done.
func gatherInfos(ctx context.Context, nc *nats.Conn) ([]micro.Info, error) {
	subject, err := micro.ControlSubject(micro.InfoVerb, ServiceName, "")
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	inbox := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest(subject, inbox, nil); err != nil {
		return nil, fmt.Errorf("status: asking %s: %w", subject, err)
	}
	var infos []micro.Info
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, nats.ErrNoResponders) {
				return infos, nil
			}
			return nil, fmt.Errorf("status: reading %s answers: %w", subject, err)
		}
		var info micro.Info
		if json.Unmarshal(m.Data, &info) == nil && info.Name == ServiceName {
			infos = append(infos, info)
		}
	}
}

// askPeers asks one bridge for its peers, within the connection's
// timeout: ctx is spent by the time Discover asks.
func askPeers(nc *nats.Conn, info micro.Info) Bridge {
	b := Bridge{Node: info.Metadata[MetadataNode], ID: info.ID, Version: info.Version, Peers: []Peer{}}
	i := slices.IndexFunc(info.Endpoints, func(e micro.EndpointInfo) bool { return e.Name == EndpointName })
	if i < 0 {
		b.Error = "no peers endpoint"
		return b
	}
	m, err := nc.Request(info.Endpoints[i].Subject, nil, nc.Opts.Timeout)
	if err == nil {
		b.Peers, err = decodePeers(m)
	}
	if err != nil {
		b.Error = err.Error()
	}
	return b
}
