// Package fleet joins gateways that share one NATS (a server, a cluster or
// a supercluster) into a fleet: a bridge registered at any of them is
// found through every one, can be hole-punched with from a bridge
// registered at another, and relayed to.
//
// # Subjects, not JetStream
//
// The shared state is NATS interest, kept with request-reply among the
// gateways, not a JetStream KV bucket. A gateway subscribes to
// <prefix>.<node>.* for each node registered with it, while the
// registration lasts, and answers there for it:
//
//	<prefix>.<node>.lookup  the node's record, its home gateway and the
//	                        home's address the node is connected to
//	<prefix>.<node>.punch   notify the node of a punch the asker's gateway times
//	<prefix>.<node>.relay   open the home half of a relay session
//
// Asks are msgpack (natpunch/wire's FleetAsk and FleetAnswer); a refusal
// comes back as the headers Nats-Service-Error and Nats-Service-Error-Code,
// as nats.go micro services answer.
//
// Why not a KV bucket with a TTL:
//
//   - The entry lives exactly as long as the registration, and no longer
//     than its gateway: the server drops a connection's interest when the
//     connection goes, so a gateway that dies or loses NATS takes its
//     entries with it at once. A KV entry outlives its gateway until its
//     TTL (90 s) and sends bridges to a dead home in the meantime.
//   - A miss costs one round trip: a request no gateway subscribes to is
//     answered 503 at once (nats.ErrNoResponders).
//   - Cost: a KV write is stored and, in a cluster, replicated to a quorum
//     of the stream's replicas before it is acknowledged, and bridges
//     refresh every 30 s (10,000 bridges: about 330 stored writes a
//     second, for state that is soft and rebuilt by the next refresh). A
//     subscription costs one SUB line when a bridge registers and nothing
//     when it refreshes; a lookup is one request either way.
//   - Punches and relays need a request to the node's home anyway: only
//     the home holds the node's connection.
//   - Users' NATS accounts need no JetStream enabled or JetStream limits.
//
// What a bucket would add, history and answers while a home is too busy
// to reply, registrations do not need: a bridge re-registers on its own.
//
// # The relay across gateways
//
// The requester's gateway forwards the session's packets to the node's
// home, and the home to the node, one hop between gateways as a DERP mesh
// forwards (rather than iroh's way, where the requester opens a session at
// the node's home itself). Bridges need no change and no second
// registration: a bridge behind a NAT that admits only its gateway's
// replies, or on the TCP relay, keeps the one path it has. The packets are
// the peers' end-to-end QUIC; neither gateway can read them.
//
// # Limits
//
// An ask is charged at the home to the asking bridge's own request rates,
// and punches and relays toward the node to the node's budgets there (its
// notify rates, relay sessions and received packets), as if the bridge
// had asked at the home: a key that spreads its asks over many gateways
// still meets the home's per-key limits for everything aimed at nodes
// there. What a key costs the gateway it asks at (its registration, its
// rates there, its relay packets) stays per gateway.
//
// A gateway that loses its NATS keeps serving its own registrations:
// lookups of other nodes answer "not registered", nothing waits for NATS,
// and Err, which the gateway's /healthz and metrics report, says so until
// nats.go has reconnected and re-subscribed.
package fleet
