package status

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// Names of the service, its metadata and its endpoint.
const (
	ServiceName  = "peerbridge"
	MetadataNode = "node"
	EndpointName = "peers"
)

// PeerLister is what the service needs from the connector.
type PeerLister interface {
	Peers() []connector.PeerInfo
	Stats() connector.Stats
}

// ServiceConfig configures Register.
type ServiceConfig struct {
	// Node is the bridge's node ID. Required.
	Node string
	// Version is the bridge's version, semantic ("1.2.3"). Empty means
	// "0.0.0".
	Version string
	// Now is the clock peer ages are measured with. Nil means time.Now.
	Now func() time.Time
	// Membership says why the bridge accepts a peer (see
	// membership.Policy.Membership). Nil leaves it out.
	Membership func(identity.NodeID) string
	// Gateways are the bridge's gateways: their connections are listed
	// with Peer.Gateway set.
	Gateways []identity.NodeID
}

// PeersSubject is the subject of node's peers endpoint: one per bridge, so
// a request reaches that bridge and no other.
func PeersSubject(node string) string { return "peerbridge.peers." + node }

// Register adds the peerbridge micro service to nc. The caller stops it
// with the returned service's Stop.
func Register(nc *nats.Conn, cfg ServiceConfig, peers PeerLister) (micro.Service, error) {
	if cfg.Node == "" || strings.ContainsAny(cfg.Node, ".*> \t") {
		return nil, fmt.Errorf("status: bad node ID %q", cfg.Node)
	}
	if cfg.Version == "" {
		cfg.Version = "0.0.0"
	}
	if cfg.Membership == nil {
		cfg.Membership = func(identity.NodeID) string { return "" }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	svc, err := micro.AddService(nc, micro.Config{
		Name:         ServiceName,
		Version:      cfg.Version,
		Description:  "peerbridge: NATS over a peer-to-peer QUIC mesh",
		Metadata:     map[string]string{MetadataNode: cfg.Node},
		StatsHandler: func(*micro.Endpoint) any { return peers.Stats() },
	})
	if err != nil {
		return nil, fmt.Errorf("status: registering the micro service: %w", err)
	}
	handler := micro.HandlerFunc(func(r micro.Request) {
		list := peersOf(peers.Peers(), cfg.Now(), cfg.Membership, cfg.Gateways)
		slices.SortFunc(list, func(a, b Peer) int { return strings.Compare(a.Node, b.Node) })
		if err := r.RespondJSON(list); err != nil {
			r.Error("500", err.Error(), nil)
		}
	})
	err = svc.AddEndpoint(EndpointName, handler, micro.WithEndpointSubject(PeersSubject(cfg.Node)), micro.WithEndpointQueueGroupDisabled())
	if err != nil {
		return nil, errors.Join(fmt.Errorf("status: adding the peers endpoint: %w", err), svc.Stop())
	}
	return svc, nil
}

// decodePeers parses a peers endpoint's answer.
func decodePeers(m *nats.Msg) ([]Peer, error) {
	if code := m.Header.Get(micro.ErrorCodeHeader); code != "" {
		return nil, fmt.Errorf("status: peers endpoint: %s %s", code, m.Header.Get(micro.ErrorHeader))
	}
	var out []Peer
	if err := json.Unmarshal(m.Data, &out); err != nil {
		return nil, fmt.Errorf("status: peers endpoint answered %q: %w", m.Data, err)
	}
	return out, nil
}

// semver is the form micro accepts as a service version (its own pattern).
var semver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// ServiceVersion turns a Go module version ("v1.2.3", "(devel)") into the
// semantic version the service announces: without the "v", or "0.0.0" if
// it is none.
func ServiceVersion(v string) string {
	v = strings.TrimPrefix(v, "v")
	if !semver.MatchString(v) {
		return "0.0.0"
	}
	return v
}
