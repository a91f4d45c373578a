// Package connector is peerbridge's peer connector: it sends messages and
// requests to peers over pooled, mutually authenticated QUIC connections and
// hands inbound ones to a Handler.
//
// # Send API
//
// Every call takes an [Outbound]: target, type, payload, headers, timeout
// and NAT routing options in one struct. [Connector.Send] is
// fire-and-forget: it returns once the peer has acknowledged the message, or
// with an error that says it may not have arrived. [Connector.SendAsync] is
// the same without waiting: it calls back with a [Result]. [Connector.Request]
// waits for the peer's reply. [Connector.SendMany] sends one message to many
// peers at once, with a result per peer. Outbound.Timeout, else the context's
// deadline, else Config.DefaultTimeout is the timeout.
//
// # Send queues
//
// SendAsync (and Send and SendMany, which use it) only checks the message and
// queues it: each peer (node ID, or endpoint for a target without one) has a
// queue of its own, served by a worker goroutine of its own that finds the
// connection (pooled, dialled or routed) and writes. A peer that is slow or
// does not answer at all so delays only its own messages; every other peer's
// go out at once. A worker takes everything queued at once and writes it in
// one go, which is where batching comes from, and ends when its queue is
// empty; the connector owns the workers and Close waits for them. Queues are
// bounded: Config.MaxQueuedBytesPerPeer bytes per peer (payload, headers
// and what a waiting message holds besides), Config.MaxQueuedBytes in all,
// Config.MaxQueue messages per peer, Config.MaxQueues peers with a
// queue. A message that finds no
// room fails at once with ErrBusy, counted in Stats.Busy. A message written
// stays counted until the peer acknowledges it or the connection ends, so a
// peer that reads and never acknowledges costs at most a full queue. A send
// whose deadline passes is told so and its done function dropped (within a
// janitor tick), whether or not the frame is acknowledged later. A peer that
// leaves a frame unacknowledged for Config.AckTimeout is cut off, as
// nats-server cuts off a slow consumer: the sends waiting on it fail with
// ErrSlowPeer (counted in Stats.SlowPeers). A fan-out queues
// one entry per target, all sharing the payload. Messages to one target
// keep their order. Requests wait in no queue: each runs on its caller's
// goroutine and a stream of its own.
//
// # Addresses
//
// A target's node ID is proved by the peer's certificate. An endpoint next
// to it is a hint for that message: it is dialled only if the pool has no
// connection to the node (otherwise the pooled one carries the message, and
// Result.Remote and Reply.Remote say where it went), and it becomes the
// node's address only once the peer there completed the TLS handshake as
// that node. Addresses given with AddAddress (static peers) are never
// replaced.
//
// # Fast errors
//
// A caller waits for a dial at most its dial budget: Config.DialTimeout, but
// no more than a quarter of the time it has left (at least half of it, up to
// a second). Past it the caller gets ErrUnreachable while it can still
// answer its own caller: with the default 10 s timeout and 5 s dial timeout,
// an unreachable peer is reported after 2.5 s. The dial itself goes on, for
// DialTimeout, and a connection it makes is pooled for the next message.
//
// # Going away
//
// [Connector.Shutdown] stops gracefully: it refuses new work, lets the queues
// empty, and tells each peer it is going away: a stream of its own carrying
// one ping frame of type "peerbridge.goaway" (a ping never reaches a
// handler; a peer that does not know the signal just acknowledges it). A
// peer that receives it opens
// nothing new on that connection: sends and requests for that node fail at
// once with ErrGoingAway, unless a newer connection replaces it in the pool.
// Once the peer's own requests on it are answered and its messages
// acknowledged, it sends the signal back. The side going away closes the
// connection when it has the peer's signal and nothing is in flight either
// way, or when its grace period ends, so every reply written before the
// stop is read, in both directions.
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
// each (see BenchmarkSendStreamModel); a stream that never runs dry is
// acknowledged every 1,024 frames all the same. A message stream with nothing to
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
// # NAT traversal
//
// A target that names only a node ID with no known address, or whose known
// address fails, goes to the [Router] (natpunch.Client) once for all
// concurrent callers. The router makes a connection with DialPath (on the
// connector's socket or on another transport, such as a relay's), or waits
// with WaitPath for one the peer makes (labelled beforehand with
// ExpectPath), and returns it as a [Conn]; the connector sends on that
// connection. WaitPath costs nothing while it waits: the pool wakes its
// waiters for a node whenever it pools a connection to it. A direct or
// punched connection replaces a relayed one in the pool. Message types
// starting with ReservedTypePrefix belong to NAT traversal's control
// messages.
//
// # Socket
//
// One UDP socket, one quic.Transport, both listens and dials, as NAT
// traversal requires.
package connector
