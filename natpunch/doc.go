// Package natpunch is peerbridge's NAT traversal: a gateway that bridges
// register with, a NAT probe, hole punching timed by the gateway, and a
// packet relay through the gateway, all from the one UDP socket the
// connector listens and dials on.
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
// over TLS to its first gateway (the same host:port over TCP unless
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
// make a gateway or a bridge hold or send has a bound per key and in total,
// checked before anything is stored or started:
//
//   - the gateway checks a registration's size before decoding it, keeps
//     only validated, canonical values (at most MaxLocalAddrs unicast
//     addresses, known NAT words), holds at most MaxRegistrations records
//     (a re-registration replaces its record) and sweeps expired ones every
//     quarter of the TTL;
//   - it rate-limits registrations, lookups, punch and relay requests per
//     key, punch and relay requests toward one node from all keys, and all
//     requests together ([GatewayLimits]), answering CodeRateLimited;
//   - it bounds relay sessions per client and in total, and charges every
//     relayed packet to its sender's and its receiver's packet buckets, its
//     session's byte bucket and a total ([RelayLimits]); the defaults carry
//     about 5 MB/s each way per relayed pair and never end a session by
//     surprise;
//   - a bridge makes a punch a peer asked for only within the peer's rate,
//     one at a time per peer and MaxPunches at once, sends at most
//     PunchPackets punch packets per punch, and sprays or dials only the
//     address the gateway saw the peer's connection come from and claimed
//     addresses on its own subnets (a peer on the same LAN);
//   - a bridge agrees to relay sessions within a rate and the per-peer and
//     total bounds, drops relay packets of sessions it did not ask for or
//     agree to, and ends sessions idle for RelayIdleTimeout.
//   - the TCP relay admits connections within a total and a per-IP bound
//     before any TLS ([TCPLimits]), requires a client certificate, ends a
//     client that sends a message over 2 KiB or nothing for 90 s, and
//     gives each client one loopback socket, whose kernel buffer is the
//     client's bounded queue.
//
// Which side of a punch dials follows the NAT behaviour each side claims,
// which the gateway cannot check, so a requester can choose to be dialled.
// That buys nothing: the dialling side dials only the addresses above,
// within the same budget, so its packets go back to the requester itself.
// Every refusal and drop is counted in [Gateway.Stats],
// [Client.PunchStats] and [Client.RelayStats].
//
// # Packets
//
// Non-QUIC packets share the socket with QUIC. Each starts with a type byte
// below 0x40 (so quic-go does not take it for QUIC: the connector hands it
// to the demux as it comes off the socket, see
// connector.Connector.SetNonQUICHandler) and the magic "PB":
//
//	probe           0x01 'P' 'B' txn[12] flags[1] zero padding   64 bytes
//	probe response  0x02 'P' 'B' txn[12] observed[18] other[18]  51 bytes
//	punch           0x03 'P' 'B' filler                           ignored
//	relay           0x04 'P' 'B' session[8] inner QUIC packet
//
// An address is 16 bytes of IPv6 (IPv4 mapped) and a big-endian port; all
// zero is none. A probe response is never larger than the probe and goes
// only to the address the probe came from, from the gateway's other
// address if flags has bit 0 set (the filtering test).
//
// # Control messages
//
// Bridges and gateways exchange msgpack-encoded control messages as
// connector requests whose types start with "$pb."
// (connector.ReservedTypePrefix, which the bridge refuses from NATS):
// registration, lookup,
// punch and relay requests to the gateway ("$pb.gw.*"), punch plans and
// relay grants from it. A bridge accepts them only from its configured
// gateways, and every payload's declared lengths are checked against its
// size before it is decoded.
//
// Every parser of network input has a fuzz target in this package:
//
//	go test -run '^$' -fuzz '^FuzzDecodeControl$' -fuzztime 30s ./natpunch
package natpunch
