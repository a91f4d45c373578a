// Package connector is peerbridge's peer connector: it sends messages and
// requests to peers over pooled, mutually authenticated QUIC connections and
// hands inbound ones to a Handler.
//
// # Send API
//
// [Connector.Send] is fire-and-forget: it returns once the peer has
// acknowledged the message, or with an error that says it may not have
// arrived. [Connector.Request] waits for the peer's reply. [Connector.SendMany]
// sends one message to many peers at once, with a result per peer. A context
// deadline is the timeout; without one, Config.DefaultTimeout applies.
//
// # Streams
//
// Each request in flight has a QUIC stream of its own, so requests never
// wait behind each other. A stream carries one request at a time and, once
// its answer is in, waits for the next (a connection keeps a few idle), so a
// request costs no stream open, close and MAX_STREAMS update: two packets,
// as a message does (BenchmarkRequestRoundTrip). Fire-and-forget messages
// share one stream per connection and direction: they are written back to
// back, kept in order, and acknowledged cumulatively by the receiver, so a
// burst of small messages costs neither a stream open nor an acknowledgement
// each (see BenchmarkSendStreamModel). A message stream with nothing to
// acknowledge for a second closes, with the goroutine reading its
// acknowledgements; the next message opens another, so an idle connection
// holds no streams.
//
// # Pool
//
// One live connection per peer, keyed by node ID and used in both
// directions. Concurrent first sends to a peer dial once. Connections idle for
// Config.IdleTimeout are closed (pings do not count as use). No connection is
// ever evicted to make room: see Limits. A pooled connection silent for longer than
// Config.ReverifyAfter is pinged before use, so a dead one is found before
// anything is written to it and the message goes out on a fresh dial
// instead: a message is retried only where it cannot have been delivered.
//
// # Limits
//
// A peer is anyone with a freshly generated key, so everything a peer can
// make this node hold is bounded, per peer and in total, before it is
// allocated: inbound connections (Config.MaxConns, MaxConnsPerIP, checked
// at the first packet, and MaxConnsPerPeer once the key is known), streams
// (MaxStreams per connection, MaxInboundStreams in total), the memory of
// frames still arriving (ConnFrameBudget, FrameBudget: a body grows as its
// bytes come, never to its announced size at once) and how long they may
// take (FrameTimeout), and requests being served (MaxInboundRequests,
// MaxInboundRequestsPerPeer, MaxInboundRequestBytes; each for
// DefaultTimeout at most, whatever its sender asks). What is over a limit is refused, counted in Stats, and told
// so: a refused connection is closed, a refused request answered 503.
//
// # Socket
//
// One UDP socket, one quic.Transport, both listens and dials, as NAT
// traversal requires.
package connector
