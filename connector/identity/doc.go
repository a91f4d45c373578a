// Package identity gives a peerbridge node its Ed25519 key, the node ID
// derived from it, and the TLS configuration that proves both on every QUIC
// connection.
//
// A node ID is the node's 32-byte Ed25519 public key written in lower-case
// base32 (RFC 4648 alphabet, no padding): 52 characters from a-z and 2-7.
// Because the ID is the key itself, a node ID cannot be claimed without the
// private key: TLS 1.3 makes each side sign the handshake with the key in its
// certificate, and each side derives the other's node ID from that
// certificate, never from anything the peer says.
package identity
