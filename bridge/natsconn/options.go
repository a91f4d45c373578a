package natsconn

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"time"
)

// Defaults of Options, each used where its field is zero.
const (
	DefaultReadBufferSize = 64 << 10
	DefaultMaxPending     = 64 << 20 // nats-server's max_pending
	DefaultWriteTimeout   = 10 * time.Second
	DefaultMaxControlLine = 4096 // nats-server's max_control_line
	DefaultPingInterval   = 2 * time.Minute
	DefaultMaxPingsOut    = 2
)

// Options configure a Conn. The zero value is a valid configuration.
type Options struct {
	// Name is sent in CONNECT and shows in the server's monitoring. Empty:
	// no name.
	Name string

	// User and Password, or Token, authenticate the client. Empty: none.
	// Dial takes user and password from the URL when these are empty.
	User, Password string
	Token          string

	// NKey is the client's public nkey, and Sign signs the server's nonce
	// with its seed; UserJWT, when set, is sent with the signature (a
	// decentralised-auth user). Nil Sign: no nkey authentication.
	NKey    string
	UserJWT string
	Sign    func(nonce []byte) ([]byte, error)

	// TLSConfig, when set, upgrades the connection to TLS after INFO (the
	// server must offer TLS). Nil: plain TCP, and a server requiring TLS is
	// refused with ErrTLSRequired.
	TLSConfig *tls.Config

	// ErrorHandler hears every -ERR the server sends, as a *ServerError,
	// fatal or not. It runs on the reader goroutine and must not block or
	// call Close. Nil: errors are only seen through Err.
	ErrorHandler func(error)

	// ReadBufferSize is the size of the read buffer. Zero: 64 KiB.
	ReadBufferSize int
	// MaxPending bounds the bytes published but not yet written to the
	// socket; past it Publish returns ErrPendingFull. Zero: 64 MiB.
	MaxPending int
	// WriteTimeout bounds one socket write; a write that takes longer
	// closes the Conn. Zero: 10 s.
	WriteTimeout time.Duration
	// MaxControlLine bounds a MSG, HMSG or -ERR line from the server (an
	// INFO line may be 16 times longer). Zero: 4096 bytes.
	MaxControlLine int
	// PingInterval is how often the Conn pings an otherwise silent server;
	// MaxPingsOut unanswered pings close the Conn with ErrStaleConnection.
	// Zero: 2 minutes and 2. Negative PingInterval: no pings.
	PingInterval time.Duration
	MaxPingsOut  int
}

// populate fills zero fields with their defaults.
func (o *Options) populate() {
	o.ReadBufferSize = cmp.Or(o.ReadBufferSize, DefaultReadBufferSize)
	o.MaxPending = cmp.Or(o.MaxPending, DefaultMaxPending)
	o.WriteTimeout = cmp.Or(o.WriteTimeout, DefaultWriteTimeout)
	o.MaxControlLine = cmp.Or(o.MaxControlLine, DefaultMaxControlLine)
	o.PingInterval = cmp.Or(o.PingInterval, DefaultPingInterval)
	o.MaxPingsOut = cmp.Or(o.MaxPingsOut, DefaultMaxPingsOut)
}

// validate checks a populated Options.
func (o *Options) validate() error {
	switch {
	case o.ReadBufferSize < 512:
		return fmt.Errorf("natsconn: ReadBufferSize %d is below 512", o.ReadBufferSize)
	case o.MaxPending < 0:
		return fmt.Errorf("natsconn: negative MaxPending %d", o.MaxPending)
	case o.WriteTimeout < 0:
		return fmt.Errorf("natsconn: negative WriteTimeout %v", o.WriteTimeout)
	case o.MaxControlLine < 256:
		return fmt.Errorf("natsconn: MaxControlLine %d is below 256", o.MaxControlLine)
	case o.MaxPingsOut < 0:
		return fmt.Errorf("natsconn: negative MaxPingsOut %d", o.MaxPingsOut)
	case o.NKey != "" && o.Sign == nil:
		return fmt.Errorf("natsconn: NKey without Sign")
	}
	return nil
}
