package natsconn

// Msg is a message delivered to a Handler. It and every slice in it belong
// to the Conn's read buffer and are valid only during the Handler call:
// copy what must outlive it (string(m.Subject), bytes.Clone(m.Data)).
type Msg struct {
	// Subject is the subject the message was published on.
	Subject []byte
	// Reply is the reply subject, nil when there is none.
	Reply []byte
	// Header is the raw header block ("NATS/1.0\r\nKey: value\r\n\r\n"),
	// nil when the message has none.
	Header Header
	// Data is the payload.
	Data []byte
}

// Handler handles a message on the Conn's reader goroutine: while it runs,
// nothing else is read, so it must not block for long. It may publish,
// subscribe and unsubscribe, but must not call Close.
type Handler func(m *Msg)
