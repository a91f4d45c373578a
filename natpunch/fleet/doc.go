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
//	<prefix>.<node>.holders asked of every home at once: since when it
//	                        holds the node (see Limits)
//
// Asks are msgpack (natpunch/wire's FleetAsk and FleetAnswer); a refusal
// comes back as the headers Nats-Service-Error and Nats-Service-Error-Code,
// as nats.go micro services answer.
//
// A node may briefly have a gateway subscribed that no longer holds it
// (its record expired, its subscription not yet gone): that gateway
// answers not-found. Ask therefore reads more than the first answer: a
// not-found answer is returned only if no other holder answers within
// the stall time after it (DefaultGatherStall), and at most a few
// answers are read.
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
// there.
//
// What a key may do itself (register, look up, punch, relay) is bounded
// per gateway, so a fleet bounds how many gateways hold one key: at most
// gateway.Limits.MaxGatewaysPerKey (--max-gateways-per-key, default 3),
// and a gateway of a fleet serves lookups, punches and relays only to keys
// it holds (it answers the others wire.CodeNotHeld). A key's total is then
// at most that many times each per-key limit, whatever the fleet's size:
// a key that registers at all of 8 gateways is held, and served, at 3.
//
// The holders of a key count each other with one more ask,
// <prefix>.<node>.holders, sent to every gateway announced for the node
// at once and answered by each with when it began to hold the node
// (wire.FleetAnswer.Since). A new registration is admitted unless
// MaxGatewaysPerKey holders rank before it: older first, then the lower
// gateway ID. A node's first registration at a gateway costs a flush and
// the ask, its first refresh one more ask, later refreshes nothing; when no
// other gateway holds the node the server answers it 503 at once (the
// fleet's connection is made with nats.NoEcho, so the asking gateway's own
// subscription does not answer); otherwise AskAll gathers answers until
// enough rank before, or none has come for GatherStall (100 ms) after the
// last. A key refused at a gateway costs it that one ask per attempt, and
// its attempts there are charged to its register rate as any are.
//
// Races. A gateway stores a new record before it counts, and its holding
// begins (Since) once the server has seen its subscription (a flush); until
// then it answers a count as if it began at that moment. So of two
// gateways admitting one key at once, the later-ranked counts after the
// other's subscription, sees it, and refuses if it must: on one NATS
// server, racing registrations never exceed the cap. Where a count can
// miss a holder (interest still crossing a cluster, clocks apart, an
// answer later than the stall, a holder that lost NATS) each new holding
// is counted again at the bridge's first refresh (30 s), and a holding
// made while the gateway had lost NATS, or before its connection was
// re-established (Epoch), ranks anew, as if just made, at the first
// refresh after: the later-ranked extras withdraw, so an excess lasts
// about one refresh once every holder is in the fleet's sight.
//
// Failing open. A gateway that has lost its NATS admits every
// registration, as a gateway on its own does (its records are out of the
// fleet's sight meanwhile, so the fleet serves them nowhere else), and
// counts them when NATS is back; a count that gets no answer in a second
// admits too. Failing closed would refuse a gateway's own bridges for as
// long as NATS is away, which the fleet's promise (a gateway keeps serving
// its own registrations) rules out.
//
// Why not one owner per key (rendezvous hashing over the live members,
// which hold each key's buckets): every lookup or punch would need a NATS
// round trip to the owner, or token leases, and membership heartbeats on
// top; the owner changes whenever a gateway joins or leaves, losing the
// buckets. Bounding the holders needs no membership, keeps every request
// served from local buckets, and costs one ask per new registration.
//
// A bridge configured with more gateways of one fleet than the cap is
// held at that many; the others answer wire.CodeNotHeld, which the bridge
// takes as an answer (the gateway is up; it is logged once, at info) and
// skips in its routes until a refresh is admitted there, as happens at
// the next refresh after one of its holders is gone.
//
// A gateway that loses its NATS keeps serving its own registrations:
// lookups of other nodes answer "not registered", nothing waits for NATS,
// and Err, which the gateway's /healthz and metrics report, says so until
// nats.go has reconnected and re-subscribed.
package fleet
