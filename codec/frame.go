package codec

import "time"

// Version is the frame format version this package writes and reads.
const Version = 1

// Kind says what a frame is for.
type Kind uint8

// Frame kinds. Kinds from 16 on are reserved for control frames (NAT
// traversal); a reader passes them through untouched.
const (
	// KindSend is a fire-and-forget message. Its ID is a per-stream sequence
	// number the receiver acknowledges with KindAck.
	KindSend Kind = 1
	// KindRequest asks for exactly one KindReply or KindError with the same ID.
	KindRequest Kind = 2
	// KindReply answers a request.
	KindReply Kind = 3
	// KindError answers a request or a send with an error code and text.
	KindError Kind = 4
	// KindAck acknowledges every send and ping up to and including its ID.
	KindAck Kind = 5
	// KindPing asks for a KindAck; it carries no message.
	KindPing Kind = 6
	// KindControl is the first kind reserved for control frames.
	KindControl Kind = 16
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindSend:
		return "send"
	case KindRequest:
		return "request"
	case KindReply:
		return "reply"
	case KindError:
		return "error"
	case KindAck:
		return "ack"
	case KindPing:
		return "ping"
	}
	if k >= KindControl {
		return "control"
	}
	return "unknown"
}

// Frame is one message on the wire.
type Frame struct {
	// Kind says what the frame is for.
	Kind Kind
	// Type is the message type, such as "dht_store" or "service.calculator.add".
	Type string
	// ID is the correlation ID of a request and its answer, or the sequence
	// number of a send.
	ID uint64
	// Headers travel end to end, like NATS headers. Nil means none.
	Headers map[string][]string
	// Timeout is how long the sender will wait for an answer; zero means the
	// receiver's default. It travels in milliseconds.
	Timeout time.Duration
	// Code is the error code of a KindError frame (HTTP-like: 400, 404, 503...).
	Code int
	// Error is the error text of a KindError frame.
	Error string
	// Payload is opaque and is never re-encoded.
	Payload []byte
}

// Reset clears f for reuse, keeping no references to earlier contents.
func (f *Frame) Reset() { *f = Frame{} }
