package wire

// Fleet operations: what a gateway asks the home gateway of a node (a
// gateway the node is registered at) over the fleet's shared NATS, on
// behalf of a bridge registered with it.
const (
	FleetLookup = "lookup"
	FleetPunch  = "punch"
	FleetRelay  = "relay"
	// FleetHolders is asked of every gateway holding a node's record, not
	// one: each answers its FleetAnswer with Since, so that the asking
	// gateway can count how many gateways of the fleet hold the node.
	FleetHolders = "holders"
)

// CodeNotHeld is a fleet gateway's answer to a bridge whose registration
// it does not hold: a registration it refused because as many gateways of
// the fleet as one key may register at (gateway.Limits.MaxGatewaysPerKey)
// hold the bridge's record already, or a lookup by a key not registered
// with it. The bridge is found through every gateway of the fleet all the
// same. The refusing gateway is up but serves the bridge no lookups,
// punches or relays; the bridge tries again at its next refresh, and is
// admitted once fewer gateways hold it.
const CodeNotHeld = 409

// FleetAsk is one gateway's request to a node's home gateway. From is the
// bridge that asked, so the home charges it to that bridge's own rates as
// if it had asked there itself.
type FleetAsk struct {
	From string `msgpack:"from"`
	// Peer is the asker as its own gateway knows it (punch).
	Peer *PeerInfo `msgpack:"peer,omitempty"`
	// StartMs is how long after the home gets the ask the punch is to
	// start (punch).
	StartMs int64 `msgpack:"start_ms,omitempty"`
	// Session and RelayFrom are the relay session the asker's gateway
	// opened and the address it forwards the session's packets from
	// (relay).
	Session   []byte `msgpack:"session,omitempty"`
	RelayFrom string `msgpack:"relay_from,omitempty"`
}

// FleetAnswer is the home gateway's answer: the node as it knows it, its
// own node ID and the address the node is connected to (where the asker's
// gateway sends relay packets, and where a bridge can register to meet
// the node), and for a punch the home's round-trip time to the node and
// which side dials.
type FleetAnswer struct {
	Peer     PeerInfo `msgpack:"peer"`
	TCP      bool     `msgpack:"tcp,omitempty"` // the node is on the TCP relay: no punch
	Home     string   `msgpack:"home"`
	HomeAddr string   `msgpack:"home_addr"`
	RTTMs    int64    `msgpack:"rtt_ms,omitempty"`
	// AskerDials says the asker's side of the punch dials.
	AskerDials bool `msgpack:"asker_dials,omitempty"`
	// Since is when the home admitted the node's record, in Unix
	// nanoseconds (holders): gateways holding one node rank their records
	// by it, oldest first, then by gateway ID.
	Since int64 `msgpack:"since,omitempty"`
}
