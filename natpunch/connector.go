package natpunch

import (
	"context"
	"net"
	"net/netip"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

var _ Connector = (*connector.Connector)(nil)

// Connector is what a Client needs of the peer connector it routes for;
// *connector.Connector is one.
type Connector interface {
	// DialPath dials a peer on a transport (nil: the connector's own) and
	// returns the peer's pooled connection.
	DialPath(ctx context.Context, tr *quic.Transport, addr net.Addr, want identity.NodeID, path connector.Path) (connector.Conn, error)
	// ExpectPath labels the next connection the peer dials with path.
	ExpectPath(id identity.NodeID, path connector.Path)
	// WaitPath waits until the pool holds a connection to the peer on a
	// path ok accepts, and returns it.
	WaitPath(ctx context.Context, id identity.NodeID, ok func(connector.Path) bool) (connector.Conn, error)
	// PathTo reports the path of the peer's pooled connection, if any.
	PathTo(id identity.NodeID) (connector.Path, bool)
	// Peers lists the live connections, with their remote addresses: where
	// the control connection to a gateway runs.
	Peers() []connector.PeerInfo
	// Adopt pools a connection accepted on the relay transport.
	Adopt(qc *quic.Conn, path connector.Path) error
	// Request asks a gateway.
	Request(ctx context.Context, o connector.Outbound) (*connector.Reply, error)
	// SetRouter makes the client the connector's router.
	SetRouter(r connector.Router)
	// SetNonQUICHandler hands the socket's non-QUIC packets (probes,
	// punches, relayed packets) to h as they arrive; nil stops it.
	SetNonQUICHandler(h connector.NonQUICHandler)

	// Transport, Addr, Identity and QUICConfig are the socket traversal
	// shares with the connector and what it needs to run QUIC through
	// relays as the connector does.
	Transport() *quic.Transport
	Addr() netip.AddrPort
	Identity() *identity.Identity
	QUICConfig() *quic.Config
}
