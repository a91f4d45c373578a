// Package portmap asks the LAN's router for a UDP port mapping, so that
// peers can reach a bridge behind it directly: with NAT-PMP (RFC 6886),
// PCP (RFC 6887) or UPnP IGD (WANIPConnection1/2, WANPPPConnection1).
//
// NAT-PMP and PCP are small fixed-layout UDP protocols, written here:
// encoders and decoders in natpmp.go and pcp.go, fuzzed, with a clean
// error for every short or odd reply. The common Go client,
// github.com/jackpal/go-nat-pmp, has had no commit since 2019 and does not
// speak PCP, which newer routers prefer. UPnP needs SSDP, HTTP and SOAP,
// and uses github.com/huin/goupnp (as Tailscale and go-libp2p do), with
// its HTTP bounded here: discovery is a unicast M-SEARCH to the gateway
// (no multicast), and only a description on the gateway's own address is
// fetched.
//
// A [Mapper] owns one mapping for the life of a bridge: a goroutine maps
// the port in the background, so a network without a router that answers
// costs nothing at start-up, renews the mapping well before it expires
// (7,200 s are asked for and the mapping is renewed every 10 minutes at
// most, as Tailscale's portmapper does), and deletes it on Close. [Probe]
// reports which of the three protocols a network offers.
//
// Everything a router sends is bounded: replies are read into fixed
// buffers, a reply loop reads a bounded number of packets, and UPnP
// documents and SOAP answers are read up to a fixed size.
package portmap
