package wire

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/peerbridge/peerbridge/codec"
	"github.com/peerbridge/peerbridge/connector"
)

// Control message types, all starting with connector.ReservedTypePrefix.
// Bridges send the "$pb.gw." ones to a gateway; a gateway sends the others
// to bridges. The bridge refuses user messages whose type starts with the
// prefix, so these cannot be forged through NATS, and a bridge accepts them
// only from its configured gateways.
const (
	TypeRegister    = "$pb.gw.register"
	TypeLookup      = "$pb.gw.lookup"
	TypePunchAsk    = "$pb.gw.punch"
	TypeRelayAsk    = "$pb.gw.relay"
	TypePunchNotify = "$pb.punch"
	TypeRelayNotify = "$pb.relay"
)

// Registration is what a bridge tells its gateway about itself. Mapped,
// the port mapping it holds on its router, is left out when there is none;
// gateways that predate it ignore it.
type Registration struct {
	Local     []string `msgpack:"local"`
	Mapped    string   `msgpack:"mapped,omitempty"`
	Mapping   string   `msgpack:"mapping"`
	Filtering string   `msgpack:"filtering"`
	// Reflexive are the bridge's addresses in the other address family, as
	// the gateway's probes saw them, each with the probe answer's token.
	Reflexive []Reflexive `msgpack:"reflexive,omitempty"`
}

// Registered is the gateway's answer: the bridge's address as the gateway
// sees it, and the gateway's other addresses for NAT probes.
type Registered struct {
	Observed string   `msgpack:"observed"`
	Others   []string `msgpack:"others"`
}

// NodeRequest names a node: for lookups, punches and relays.
type NodeRequest struct {
	Node string `msgpack:"node"`
}

// PeerInfo is what a gateway knows of a node; Mapped is left out when the
// node holds no port mapping, and bridges that predate it ignore it. Home
// and HomeAddr name the
// gateway of the fleet the node is registered at, when that is not the
// gateway that answered.
type PeerInfo struct {
	Node      string   `msgpack:"node"`
	Observed  string   `msgpack:"observed"`
	Local     []string `msgpack:"local"`
	Mapped    string   `msgpack:"mapped,omitempty"`
	Mapping   string   `msgpack:"mapping"`
	Filtering string   `msgpack:"filtering"`
	Home      string   `msgpack:"home,omitempty"`
	HomeAddr  string   `msgpack:"home_addr,omitempty"`
	// Reflexive are the node's addresses in the other address family that
	// the gateway checked (see Reflexive); as trusted as Observed.
	Reflexive []string `msgpack:"reflexive,omitempty"`
}

// PunchPlan tells one side of a hole punch what to do: punch toward Addrs
// after Delay milliseconds, and dial if Dial is set. Observed is the
// address the gateway saw the peer's connection come from; the rest of
// Addrs are the peer's own claims.
type PunchPlan struct {
	Node     string   `msgpack:"node"`
	Observed string   `msgpack:"observed"`
	Addrs    []string `msgpack:"addrs"`
	Dial     bool     `msgpack:"dial"`
	DelayMs  int64    `msgpack:"delay_ms"`
	// Reflexive are the peer's gateway-checked addresses in the other
	// address family (see PeerInfo.Reflexive).
	Reflexive []string `msgpack:"reflexive,omitempty"`
}

// RelayGrant gives both sides of a relay its session.
type RelayGrant struct {
	Node    string `msgpack:"node"`
	Session []byte `msgpack:"session"`
}

// Encode encodes a control message or record as msgpack, the body of a
// connector request between bridge and gateway.
func Encode(v any) ([]byte, error) {
	b, err := msgpack.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("wire: encoding %T: %w", v, err)
	}
	return b, nil
}

// ErrMsgpack reports a control message that is not well-formed msgpack.
var ErrMsgpack = errors.New("wire: malformed msgpack")

// maxMsgpackDepth bounds the nesting of a control message; ours nest two
// deep.
const maxMsgpackDepth = 8

// Decode checks b before msgpack sees it, since the library sizes its
// buffers by declared lengths and its pooled decoders keep them: a ten-byte
// message claiming a 2 GB string grew the heap by gigabytes.
func Decode(b []byte, v any) error {
	if err := codec.CheckMsgpack(b, maxMsgpackDepth); err != nil {
		return fmt.Errorf("wire: decoding %T: %w: %w", v, ErrMsgpack, err)
	}
	if err := msgpack.Unmarshal(b, v); err != nil {
		return fmt.Errorf("wire: decoding %T: %w", v, err)
	}
	return nil
}

// CodeRateLimited is the error code of a control request refused by a
// rate limit; try again later.
const CodeRateLimited = 429

// IsControl reports whether a message type is a NAT traversal control type.
func IsControl(typ string) bool { return strings.HasPrefix(typ, connector.ReservedTypePrefix) }

// BadRequest is the error a side answers a malformed control message with.
func BadRequest(format string, args ...any) error {
	return &connector.RemoteError{Code: connector.CodeBadRequest, Text: fmt.Sprintf("natpunch: "+format, args...)}
}
