// Package wire is what a bridge's NAT client (package natpunch) and a gateway
// (package gateway) say to each other, and nothing else: both import it, and
// neither imports the other.
//
// # Packets
//
// Non-QUIC packets share the socket with QUIC. Each starts with a type byte
// below 0x40 (so quic-go does not take it for QUIC: the connector hands it
// to the demux as it comes off the socket, see
// connector.Connector.SetNonQUICHandler) and the magic "PB":
//
//	probe           0x01 'P' 'B' txn[12] flags[1] zero padding   64 bytes
//	probe response  0x02 'P' 'B' txn[12] observed[18] other[18]  51 bytes
//	punch           0x03 'P' 'B' filler                           ignored
//	relay           0x04 'P' 'B' session[8] inner QUIC packet
//
// An address is 16 bytes of IPv6 (IPv4 mapped) and a big-endian port; all
// zero is none. A probe response is never larger than the probe and goes
// only to the address the probe came from, from the gateway's other
// address if flags has bit 0 set (the filtering test).
//
// # Control messages
//
// Bridges and gateways exchange msgpack-encoded control messages as
// connector requests whose types start with "$pb."
// (connector.ReservedTypePrefix, which the bridge refuses from NATS):
// registration, lookup,
// punch and relay requests to the gateway ("$pb.gw.*"), punch plans and
// relay grants from it. A bridge accepts them only from its configured
// gateways, and every payload's declared lengths are checked against its
// size before it is decoded.
//
// Every parser of network input has a fuzz target in this package:
//
//	go test -run '^$' -fuzz '^FuzzDecodeControl$' -fuzztime 30s ./natpunch/wire
package wire
