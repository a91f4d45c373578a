package modules

import (
	"errors"
	"fmt"
	"net"
)

// ListenError reports that the embedded nats-server could not listen.
type ListenError struct {
	Addr string
	Err  error
}

// Error says what failed and how to fix it.
func (e *ListenError) Error() string {
	return fmt.Sprintf("nats: embedded server cannot listen on %s: %v (choose another address with --nats-listen, or use an external NATS with --nats-url)", e.Addr, e.Err)
}

// Unwrap returns the listener's error.
func (e *ListenError) Unwrap() error { return e.Err }

// listenFailure finds out why listening on addr fails, by trying it: the
// embedded server keeps the reason to itself.
func listenFailure(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			return op.Err
		}
		return err
	}
	ln.Close()
	return errors.New("the listener failed")
}
