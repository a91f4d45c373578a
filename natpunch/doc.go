// Package natpunch is a bridge's side of NAT traversal: it registers with
// gateways (package gateway is the server; package wire is what both speak),
// probes its NAT, punches holes timed by a gateway and relays packets
// through one, all from the one UDP socket the connector listens and dials
// on.
//
// # Traversal
//
// [Client.Route] is the connector's router for a target that names only a
// node ID. It looks the node up at the gateway, then tries the traversal
// strategies, one ordered list (strategies in strategy.go), each with the
// rule that says when it is worth trying:
//
//  1. direct: a dial to the node's public and local addresses, raced, an
//     explicit NATOptions.Endpoint first. It is left out when the node's
//     NAT admits no stranger and the node is not behind this node's own
//     public address (unless an endpoint is given or hole punching is
//     skipped): such a dial cannot be answered before a punch, costs
//     DirectTimeout, and a NAT that keeps state for it may remap the
//     node's next flow to another port;
//  2. punch: the gateway tells both sides when to start, from the
//     round-trip times it measured, and which side dials (one side, so one
//     connection); the other sprays small punch packets at it. It is left
//     out when hole punching is skipped, and at first contact when both
//     NAT reports say it cannot work (neither side admits strangers and one
//     maps each destination to a new port);
//  3. relay: the gateway forwards opaque packets between the peers, whose
//     QUIC and TLS run end to end inside them.
//
// The first strategy that works returns the pooled connection it made
// (connector.Conn), which Route hands back to the connector. While a peer
// is relayed the upgrade loop keeps trying, with backoff, the strategies
// of the same list that are not relayed (the punch even where the NAT
// reports say it cannot work, in case a NAT changed), and new requests
// move to the better path once it is pooled. A new way to reach peers is
// one entry in the list.
//
// The client drives the connector through the [Connector] interface it
// declares.
// A step that waits for a connection it did not dial itself (the peer's
// side of a punch, or the peer's dial winning a race) waits in
// connector.Connector.WaitPath, which the pool wakes when it pools a
// connection: nothing polls.
//
// A client re-probes its public address at every registration refresh. When
// it changed (the NAT forgot its mappings: a timeout, a restart, another
// network) it probes the NAT fully again and re-registers; the gateway then
// moves the node's relay sessions to the new address, so relayed
// connections survive the change.
//
// # Dual stack
//
// A gateway named by host name is known at every address the name
// resolves to (resolve.go), looked up again each round. Its control
// connection, probes and relay packets go to one of them, the one the
// control connection runs to (gatewayaddr.go): the gateway records the
// address it sees that connection come from and relays only packets from
// there. The bridge's address in the gateway's other family comes from a
// probe answered with a token, quoted in the registration (dualstack.go);
// peers trust it as they trust the observed address, and race candidates
// of both families IPv6 first, IPv4 after a head start.
//
// # Fleets
//
// Gateways that share a NATS form a fleet (natpunch/fleet): a gateway that
// does not know a node asks the node's home gateway, so a lookup, a punch
// or a relay works between bridges registered at different gateways of
// it, with nothing new on the bridge's side. The lookup names the home;
// the relay forwards one hop between the two gateways.
//
// # The TCP relay
//
// Networks that pass only TCP (often only to port 443) get no answer over
// UDP. A bridge whose registrations all fail over UDP opens one WebSocket
// over TLS to the first gateway, in the order configured, whose relay
// answers (the same host:port over TCP unless
// ClientConfig.TCPRelay says otherwise; through HTTPS_PROXY's CONNECT if
// set), both sides proving their node IDs, and sends the very datagrams it
// would send over UDP as binary messages: its QUIC control connection to
// the gateway and its relay packets. The gateway hands each client's
// datagrams to its own UDP socket from a loopback socket of the client's,
// so it serves the client as any UDP client, relay sessions and every
// limit included, and reads and forges nothing more than over UDP. While
// on TCP the bridge routes every peer through the relay and probes the
// gateway over UDP with backoff; once a probe is answered it registers
// over UDP, the gateway moves its relay sessions there, and relayed pairs
// upgrade as usual.
//
// # Hostile peers
//
// A peer is anyone with a freshly generated key, so everything a peer can
// make a bridge hold or send has a bound per key and in total, checked
// before anything is started:
//
//   - a bridge makes a punch a peer asked for only within the peer's rate,
//     one at a time per peer and MaxPunches at once, sends at most
//     PunchPackets punch packets per punch, and sprays or dials (the direct
//     strategy too) only the address the gateway saw the peer's connection
//     come from and claimed addresses on its own subnets (a peer on the same
//     LAN, ClientConfig.LocalSubnets);
//   - a bridge agrees to relay sessions within a rate and the per-peer and
//     total bounds, holds one session per peer that asked for it (a new
//     ask replaces the last), drops relay packets of sessions it did not
//     ask for or agree to, and ends sessions idle for RelayIdleTimeout;
//   - ClientConfig.Accept refuses the punches and relay sessions of peers
//     the node does not accept (403).
//
// Which side of a punch dials follows the NAT behaviour each side claims,
// which the gateway cannot check, so a requester can choose to be dialled.
// That buys nothing: the dialling side dials only the addresses above,
// within the same budget, so its packets go back to the requester itself.
// Every refusal and drop is counted in [Client.PunchStats] and
// [Client.RelayStats]; the gateway's bounds are described in package
// gateway.
package natpunch
