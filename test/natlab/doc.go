// Package natlab builds small, real network labs for tests: Linux network
// namespaces joined by veth pairs and bridges, with nftables doing the
// network address translation. It lets peerbridge's tests run real UDP and
// QUIC traffic through real NATs of known behaviour without leaving the
// machine.
//
// # Topology
//
// [New] creates the public segment: a namespace (the "internet") holding a
// Linux bridge to which every router and public host attaches. [Lab.AddNAT]
// creates a router namespace with one public address on that segment and a
// private LAN behind it (a bridge inside the router); [NAT.AddHost] puts a
// host on that LAN with a default route via the router. [Lab.AddPublicHost]
// puts a host straight on the public segment.
//
// [NAT.AddNAT] puts a NAT behind another, as a carrier-grade NAT has home
// routers behind it: the inner router's public side is an address on the
// outer NAT's LAN. Several may share one outer NAT; a Linux masquerade does
// not hairpin, so homes behind one carrier NAT cannot reach each other
// through its public address.
//
// The public segment behaves, for TTLs, like one router hop: a packet that
// arrives there with TTL 1 is dropped, as the first router past a site
// would drop it.
//
// # Wired labs
//
// The kernel has no netem, so [New] with [WithWire] makes each link to the
// public segment a pair of TAP devices with a forwarder in the test process
// between them that adds delay, jitter and loss ([Wire]). Two hosts behind
// their own routers cross four wired links per round trip, so a Wire with
// a Delay of 10 ms gives them 40 ms of RTT. [Lab.WireStats] counts what
// the forwarders carried, lost and dropped when their queues were full.
//
// # Address plan
//
// Only the benchmarking range 198.18.0.0/15 is used (and, in a lab made
// [WithIPv6], the documentation prefix 2001:db8::/32; see lab6.go):
//
//   - public segment 198.18.0.0/24; routers and public hosts get addresses
//     from 198.18.0.10 upwards, in the order they are added;
//   - the Nth NAT's LAN (N = 1, 2, ...) is 198.19.N.0/24: the router is
//     198.19.N.1 and its hosts get 198.19.N.10 upwards.
//
// Nothing has a route beyond these prefixes: routers and public hosts know
// only the public /24 and hosts behind a NAT know only their LAN and the
// default route through their router, so no lab traffic can leave the lab.
//
// # NAT kinds
//
// The kinds follow RFC 4787's terms for UDP:
//
//   - [None]: no NAT. [NAT.AddHost] on a None NAT places the host directly on
//     the public segment with one public address; there is no router.
//   - [FullCone]: endpoint-independent mapping and endpoint-independent
//     filtering. Outbound flows are masqueraded keeping their source port,
//     and once a LAN port has sent anything, any public endpoint can reach
//     it through the router's public address on that port. A full-cone NAT
//     supports exactly one LAN host.
//   - [PortRestricted]: endpoint-independent mapping, address-and-port
//     dependent filtering (plain masquerade: conntrack only admits replies
//     from the exact address and port contacted).
//   - [Symmetric]: endpoint-dependent mapping (each new destination gets a
//     fresh random public port) and address-and-port dependent filtering.
//   - [Corporate]: port-restricted, but the router forwards no UDP at all,
//     as networks that pass only TCP do; [NAT.SetUDPBlocked] lifts the
//     block at run time without forgetting any mapping.
//   - [DockerHost]: port-restricted, but the router accepts unsolicited
//     packets addressed to itself, as a Linux host masquerading for Docker
//     containers does by default: such a packet leaves a conntrack entry,
//     and the next outbound flow to its sender gets another public port.
//   - [Mapped]: symmetric, but the router runs the real miniupnpd (UPnP
//     IGD, NAT-PMP, PCP), so a host that asks for a port mapping is
//     reachable there by anyone. The lab owns the miniupnpd process and a
//     STUN server it needs on the public segment, and stops both at
//     teardown; [New] skips the test when miniupnpd is not installed.
//
// Routers raise conntrack's UDP timeouts to ten minutes so mappings do not
// expire during a test, and (all but [DockerHost]) drop unsolicited packets
// addressed to themselves, as a home router's firewall does (otherwise such a packet
// would leave a conntrack entry that makes the next outbound flow to its
// sender change port, which breaks hole punching in a way real NATs of
// these kinds do not). [NAT.SetKind] changes a NAT's kind at run time and
// flushes its connection tracking, like a router reconfigured and
// restarted.
//
// # Requirements and cleanup
//
// The lab needs root, the ip (iproute2) and nft (nftables) programs, a
// kernel that lets "ip netns add" work and, for a wired lab, /dev/net/tun;
// [New] skips the test otherwise.
// [NAT.SetRate] also needs tc. Every namespace is named after the lab's
// random [Lab.ID], so parallel or aborted runs never collide, and all of
// them are deleted by the test's cleanup, which also removes every veth and
// bridge since those live only inside the lab's namespaces. Both [New] and
// [Open] first delete the namespaces of labs whose process is gone (a lab's
// ID holds its process ID), and only those.
//
// # Outside tests
//
// [Open] builds the same lab without a testing.TB, for programs such as
// 'peerbridge bench --wan': its error wraps [ErrUnsupported] where [New]
// would skip, the Create variants of the Add methods return errors, and
// the caller must call [Lab.Close], also on failure. Close sockets
// and stop commands started in a namespace before the lab's cleanup (for
// example with t.Cleanup registered after [New]): an open socket keeps its
// namespace alive, unnamed, until it is closed.
package natlab
