package identity

import (
	"crypto/tls"
	"math/big"
	"net"
	"testing"
	"time"
)

// tlsPipe returns the two ends of a TLS connection over loopback TCP, whose
// kernel buffers let both sides write at once (net.Pipe would deadlock when
// a failing client's alert meets the server's flight). Both ends give up
// after ten seconds.
func tlsPipe(t *testing.T, client, server *tls.Config) (*tls.Conn, *tls.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Accept()
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	c.SetDeadline(deadline)
	s.SetDeadline(deadline)
	return tls.Client(c, client), tls.Server(s, server)
}

func bigOne() *big.Int { return big.NewInt(1) }
