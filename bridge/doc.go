// Package bridge is peerbridge's NATS side: it forwards messages published on
// the local NATS server to peers, and delivers what peers send to local NATS.
//
// # Outbound: local NATS to peers
//
// A Bridge subscribes, in a queue group so several bridges on one NATS share
// the load, to
//
//	<prefix>.send.<type>      fire-and-forget message
//	<prefix>.request.<type>   request, answered on the NATS reply subject
//
// The type is the rest of the subject, dots included. Headers address the
// peer and are stripped before forwarding; every other header travels end to
// end:
//
//	Peer-Node      node ID; repeat it to send one message to several peers
//	Peer-Endpoint  host:port; with as many Peer-Node values, they pair up in order
//	Peer-Timeout   Go duration overriding Config.DefaultTimeout
//	Peer-Relay     NODEID@host:port: relay through that gateway, if the peer needs a relay
//	Peer-Punch     skip: go from a failed direct dial straight to the relay
//
// Peer-Endpoint is a hint for that message: a pooled connection to the node
// is used whatever it says, and it becomes the node's address only once the
// peer there proved the node ID (a --peer address is never replaced). A
// malformed header is a 400.
//
// The NATS callback only parses, checks and queues: each peer has a send
// queue in the connector, served by a worker of its own, so a slow or
// unreachable peer delays only its own messages. A full queue is answered
// 503 "busy". Requests each run on a goroutine of their own, at most
// Config.MaxInFlight at once.
//
// A send with a reply subject is answered once the peer acknowledged it:
// {"ok":true} for one peer, a [SendReply] for several, whose results name
// the endpoint that carried the message. A request's answer
// carries the peer's payload and headers plus
//
//	Peer-From  the node ID that answered
//	Peer-Path  direct, punched or relayed
//	Peer-Conn  reused or dialed
//
// # Errors
//
// Errors are answered as NATS micro does: an empty payload with the headers
// Nats-Service-Error-Code and Nats-Service-Error. The codes are 400 for a
// missing or malformed header or type, 404 for a node with no known address,
// 413 for a payload over Config.MaxPayload, 503 for a peer that cannot be
// reached (within a quarter of the timeout: 2.5 s by default), a full send
// queue, or a remote side where nothing answers, 504 for a timeout, and the
// remote side's own code for an error it answered with. An error the remote
// side produced carries Peer-From, the remote node ID; one this bridge
// produced does not. A NATS service on the
// far side that answers with those headers itself has them passed through
// unchanged.
//
// # Inbound: peers to local NATS
//
// A Bridge is the connector's Handler. A message of type T from peer P is
// published on <prefix>.recv.T with the header Peer-From: P. A request is sent
// as a NATS request to <prefix>.recv.T, or to Config.Serve[T], within the
// requester's deadline, and the NATS reply is the answer.
//
// # NATS connections
//
// The hot path (the two subscriptions, the publishes of peers' messages,
// the answers on reply subjects) runs on Config.Dial's connections when it
// is set, speaking the protocol itself (package natsconn): headers stay
// the raw NATS block, only the Peer-* headers are parsed, and a lost
// connection is made anew, its subscriptions with it. Without Dial it runs
// on the nats.go connection given to New. Requests from peers to local
// services always use that nats.go connection. Between peers headers
// travel as the codec's map, so the headers of a message are parsed once
// on the sending side (Peer-* aside) and written once on the receiving
// side.
//
// # Stopping
//
// [Bridge.Stop] stops taking messages from NATS (it drains its
// subscriptions) and from peers (they are answered 503), and lets what is in
// progress, both ways, finish until its context ends. The daemon then shuts
// the connector down gracefully (connector.Connector.Shutdown): peers are
// told it is going away, stop sending to it (their callers get a 503 at
// once), and the connections close once every reply in flight has been read.
package bridge
