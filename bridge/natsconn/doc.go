// Package natsconn speaks the NATS client protocol over a net.Conn, for
// the bridge's hot path: it delivers MSG and HMSG without allocating and
// writes PUB and HPUB without building header maps. nats.go stays for
// everything else (micro, status, operator requests).
//
// # Connecting
//
// Dial (or New on a connection of one's own) reads the server's INFO,
// upgrades to TLS when Options.TLSConfig is set, sends CONNECT (verbose and
// pedantic off, headers and no_responders on, the name and credentials of
// Options: user and password, token, or an nkey signature with an optional
// user JWT), and waits for the PONG of a PING. Then the Conn runs three
// goroutines it owns, all stopped and waited for by Close:
//
//   - a reader that parses what the server sends and runs Handlers;
//   - a flusher that writes what Publish buffered;
//   - a pinger that closes the Conn with ErrStaleConnection when the
//     server stops answering.
//
// A Conn does not reconnect. When the connection breaks, Done is closed
// and Err says why: ErrConnectionLost, a fatal *ServerError, ErrProtocol,
// ErrStaleConnection, or ErrClosed after Close.
//
// # Receiving
//
// Subscribe hands each message to a Handler on the reader goroutine, as a
// *Msg whose Subject, Reply, Header and Data are slices of the read buffer,
// valid only during the call. Header is the raw block
// ("NATS/1.0\r\nPeer-Node: x\r\n\r\n"); Header.Get, Header.Values and
// Header.All read it in place, matching keys without regard to case, as
// nats.go reads keys and values.
//
// The parser is a byte-at-a-time state machine after nats.go's and
// nats-server's: it slices a message's arguments and payload from the read
// buffer, and copies only what a read split, into buffers it keeps. What
// the server sends is bounded before it is used: a MSG, HMSG or -ERR line by
// Options.MaxControlLine (4096, nats-server's max_control_line), an INFO
// line by 16 times that, a payload by the max_payload of the server's INFO
// (and never above 64 MiB). Anything else closes the Conn with ErrProtocol.
//
// # Publishing
//
// Publish checks the subject, the reply subject, the header block and
// max_payload, appends PUB or HPUB to a buffer and wakes the flusher, which
// writes whatever has gathered by then in one write: under load, many
// messages per write, and none waits for a timer. Publish never blocks on
// the network; past Options.MaxPending buffered bytes it returns
// ErrPendingFull, and Flush(ctx), which round-trips a PING, waits for the
// server to have read everything before it.
//
// # Server errors
//
// Every -ERR reaches Options.ErrorHandler as a *ServerError. Permission
// violations and invalid subjects leave the Conn open; after any other the
// server closes the connection, and the Conn closes with that error.
// +OK is ignored, and a PING from the server is answered with a PONG.
package natsconn
