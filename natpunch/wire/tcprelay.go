package wire

import (
	"crypto/tls"
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
	// MaxTCPDatagram bounds one WebSocket message: a full-size QUIC packet
	// (quic-go sends at most 1452 bytes) with the relay header, and room.
	MaxTCPDatagram = 2048
	// TCPALPN is the TLS protocol of the relay connection.
	TCPALPN = "http/1.1"
	// TCPIdleTimeout closes a relay connection that carried nothing from
	// its client for this long; the QUIC connection inside sends
	// keep-alives every 15 s.
	TCPIdleTimeout = 90 * time.Second
	// TCPWriteTimeout bounds writing one datagram to a relay connection.
	TCPWriteTimeout = 5 * time.Second
	// TCPHandshakeTimeout bounds the TLS handshake and the HTTP upgrade.
	TCPHandshakeTimeout = 10 * time.Second
)

// RelayIdleTimeout is how long both ends of a relay session (the gateway
// and each bridge) keep it without traffic by default. Relayed QUIC sends
// keep-alives well inside it, so only sessions nobody uses end.
const RelayIdleTimeout = 2 * time.Minute

// TCPOff, as a TCP relay address, switches the TCP relay off.
const TCPOff = "off"

// RelayServerTLS is the gateway's TLS for the relay: its identity's
// certificate, and a certificate required from every client.
func RelayServerTLS(id *identity.Identity) *tls.Config {
	c := id.ServerTLS()
	c.NextProtos = []string{TCPALPN}
	return c
}

// RelayClientTLS is a bridge's TLS for the relay: the gateway must prove
// node ID gw.
func RelayClientTLS(id *identity.Identity, gw identity.NodeID) *tls.Config {
	c := id.ClientTLS(gw, nil)
	c.NextProtos = []string{TCPALPN}
	return c
}
