package natpunch

import (
	"errors"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/peerbridge/peerbridge/codec"
)

// Control message types, all starting with connector.ReservedTypePrefix.
// Bridges send the "$pb.gw." ones to a gateway; a gateway sends the others
// to bridges. The bridge refuses user messages whose type starts with the
// prefix, so these cannot be forged through NATS, and a bridge accepts them
// only from its configured gateways.
const (
	typeRegister    = "$pb.gw.register"
	typeLookup      = "$pb.gw.lookup"
	typePunchAsk    = "$pb.gw.punch"
	typeRelayAsk    = "$pb.gw.relay"
	typePunchNotify = "$pb.punch"
	typeRelayNotify = "$pb.relay"
)

// registration is what a bridge tells its gateway about itself.
type registration struct {
	Local     []string `msgpack:"local"`
	Mapping   string   `msgpack:"mapping"`
	Filtering string   `msgpack:"filtering"`
}

// registered is the gateway's answer: the bridge's address as the gateway
// sees it, and the gateway's other addresses for NAT probes.
type registered struct {
	Observed string   `msgpack:"observed"`
	Others   []string `msgpack:"others"`
}

// nodeRequest names a node: for lookups, punches and relays.
type nodeRequest struct {
	Node string `msgpack:"node"`
}

// peerInfo is what a gateway knows of a node.
type peerInfo struct {
	Node      string   `msgpack:"node"`
	Observed  string   `msgpack:"observed"`
	Local     []string `msgpack:"local"`
	Mapping   string   `msgpack:"mapping"`
	Filtering string   `msgpack:"filtering"`
}

// punchPlan tells one side of a hole punch what to do: punch toward Addrs
// after Delay milliseconds, and dial if Dial is set. Observed is the
// address the gateway saw the peer's connection come from; the rest of
// Addrs are the peer's own claims.
type punchPlan struct {
	Node     string   `msgpack:"node"`
	Observed string   `msgpack:"observed"`
	Addrs    []string `msgpack:"addrs"`
	Dial     bool     `msgpack:"dial"`
	DelayMs  int64    `msgpack:"delay_ms"`
}

// relayGrant gives both sides of a relay its session.
type relayGrant struct {
	Node    string `msgpack:"node"`
	Session []byte `msgpack:"session"`
}

func encode(v any) ([]byte, error) {
	b, err := msgpack.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("natpunch: encoding %T: %w", v, err)
	}
	return b, nil
}

// errMsgpack reports a control message that is not well-formed msgpack.
var errMsgpack = errors.New("natpunch: malformed msgpack")

// maxMsgpackDepth bounds the nesting of a control message; ours nest two
// deep.
const maxMsgpackDepth = 8

// decode checks b before msgpack sees it, since the library sizes its
// buffers by declared lengths and its pooled decoders keep them: a ten-byte
// message claiming a 2 GB string grew the heap by gigabytes.
func decode(b []byte, v any) error {
	if err := codec.CheckMsgpack(b, maxMsgpackDepth); err != nil {
		return fmt.Errorf("natpunch: decoding %T: %w: %w", v, errMsgpack, err)
	}
	if err := msgpack.Unmarshal(b, v); err != nil {
		return fmt.Errorf("natpunch: decoding %T: %w", v, err)
	}
	return nil
}
