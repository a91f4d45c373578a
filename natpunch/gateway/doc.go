// Package gateway is the rendezvous and relay server bridges register with:
// it answers lookups from node ID to addresses, times hole punches between
// two bridges, relays opaque packets for pairs nothing else connects (their
// QUIC and TLS run end to end, so it can neither read nor forge them), and
// serves the same over a TCP relay (TLS and WebSocket) for networks that
// block UDP. Its wire format is package wire; the bridge's side is package
// natpunch.
//
// # Hostile peers
//
// A peer is anyone with a freshly generated key, so everything a peer can
// make a gateway hold or do has a bound per key, per IP address and in
// total, checked before anything is stored (every default in defaults.go,
// every bound in config.go):
//
//   - a registration's size is checked before it is decoded; only
//     validated, canonical values are kept (at most MaxLocalAddrs unicast
//     addresses, known NAT words); at most MaxRegistrations records are
//     held, MaxRegistrationsPerIP from one IP address (an IPv6 /64, a TCP
//     relay client's real IP); a record ends with its bridge's connection,
//     or when it expires unrefreshed;
//   - registrations, lookups, punch and relay requests are rate-limited per
//     key, requests toward one node per asker ([Limits.PairNotifies]) and
//     from all askers ([Limits.Notifies]), and all requests together,
//     answered wire.CodeRateLimited;
//   - relay sessions are bounded per client and in total, a key holds one
//     session with a node by asking (a new ask replaces the last), and
//     every relayed packet is charged to its sender's and its receiver's
//     packet buckets, its session's byte bucket and a total, all or none
//     ([RelayLimits]);
//   - in a fleet, a key is held at no more than MaxGatewaysPerKey gateways
//     at once, and a gateway serves lookups, punches and relays only to
//     keys it holds, so the per-key bounds hold that many times fleet-wide
//     whatever the fleet's size (see natpunch/fleet);
//   - the TCP relay admits connections within a total and a per-IP bound
//     before any TLS ([TCPLimits]), requires a client certificate, ends a
//     client that sends a message over 2 KiB or nothing for 90 s, and
//     gives each client one loopback socket, whose QUIC connections count
//     against the client's real IP ([connector.Config.SourceIP]).
//
// Every refusal and drop is counted in [Gateway.Stats].
package gateway
