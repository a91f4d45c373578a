package natpunch

import (
	"crypto/tls"
	"errors"
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// The TCP relay carries the same datagrams a bridge sends a gateway over
// UDP (end-to-end QUIC, relay packets) inside one WebSocket over TLS, for
// networks that pass only TCP, often only to port 443:
//
//	bridge --TLS 1.3 (both sides prove their node ID)--> gateway
//	GET /relay, Upgrade: websocket          (through HTTPS_PROXY if set)
//	binary message = one datagram, at most tcpMaxDatagram bytes
//
// The gateway hands each client's datagrams to its own UDP socket from a
// loopback socket of the client's, so its connector, registry and relay
// table serve TCP clients exactly as UDP ones, limits included; it reads
// and forges nothing more than it does over UDP.
const (
	// TCPRelayPath is the HTTP path of the WebSocket upgrade.
	TCPRelayPath = "/relay"
	// tcpMaxDatagram bounds one WebSocket message: a full-size QUIC packet
	// (quic-go sends at most 1452 bytes) with the relay header, and room.
	tcpMaxDatagram = 2048
	// tcpALPN is the TLS protocol of the relay connection.
	tcpALPN = "http/1.1"
	// tcpIdleTimeout closes a relay connection that carried nothing from
	// its client for this long; the QUIC connection inside sends
	// keep-alives every 15 s.
	tcpIdleTimeout = 90 * time.Second
	// tcpWriteTimeout bounds writing one datagram to a relay connection.
	tcpWriteTimeout = 5 * time.Second
	// tcpHandshakeTimeout bounds the TLS handshake and the HTTP upgrade.
	tcpHandshakeTimeout = 10 * time.Second
)

// TCPLimits bound what TCP relay clients can make a gateway hold. Every
// client holds one TCP connection, two goroutines, two 2 KiB buffers and a
// loopback UDP socket. Zero fields mean the defaults named.
type TCPLimits struct {
	// MaxConns bounds the TCP connections, upgraded or not. Default 4,096.
	MaxConns int
	// MaxConnsPerIP bounds the TCP connections from one IP address.
	// Default 16.
	MaxConnsPerIP int
}

// Default TCP relay limits; see TCPLimits.
const (
	DefaultTCPMaxConns      = 4096
	DefaultTCPMaxConnsPerIP = 16
)

func (l *TCPLimits) populate() {
	setDefaultInt(&l.MaxConns, DefaultTCPMaxConns)
	setDefaultInt(&l.MaxConnsPerIP, DefaultTCPMaxConnsPerIP)
}

// ErrTCPRelayOff reports a TCP relay that is switched off.
var ErrTCPRelayOff = errors.New("natpunch: TCP relay is off")

// TCPOff, as a TCP relay address, switches the TCP relay off.
const TCPOff = "off"

// relayServerTLS is the gateway's TLS for the relay: its identity's
// certificate, and a certificate required from every client.
func relayServerTLS(id *identity.Identity) *tls.Config {
	c := id.ServerTLS()
	c.NextProtos = []string{tcpALPN}
	return c
}

// relayClientTLS is a bridge's TLS for the relay: the gateway must prove
// node ID gw.
func relayClientTLS(id *identity.Identity, gw identity.NodeID) *tls.Config {
	c := id.ClientTLS(gw, nil)
	c.NextProtos = []string{tcpALPN}
	return c
}
