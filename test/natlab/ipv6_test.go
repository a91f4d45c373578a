package natlab_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/wire"
	"github.com/peerbridge/peerbridge/test/natlab"
)

// listenUDP opens the peer's socket: dual-stack ([::]) on a host with
// IPv6, else on the host's IPv4 address.
func (p *peer) listenUDP() (*net.UDPConn, error) {
	if len(p.host.Addrs6()) > 0 {
		return p.host.ListenUDPDual(0)
	}
	return p.host.ListenUDP(netip.AddrPortFrom(p.host.Addrs()[0], 0))
}

// remoteTo returns where p's pooled connection to peer `to` ends; invalid
// for a relayed one.
func remoteTo(p, to *peer) netip.AddrPort {
	for _, pi := range p.conn.Peers() {
		if pi.Node == to.conn.NodeID() && pi.Pooled && pi.Path != connector.PathRelayed {
			return pi.Remote
		}
	}
	return netip.AddrPort{}
}

// startDualGateway runs a gateway on host on gatewayPort of each of its
// IPv4 and IPv6 addresses (UDP only), until the test ends.
func startDualGateway(t *testing.T, host *natlab.Host) *gateway.Gateway {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	var listen []string
	var udps, alts []*net.UDPConn
	closeAll := func() {
		for _, u := range append(udps, alts...) {
			u.Close()
		}
	}
	for _, a := range append(host.Addrs(), host.Addrs6()...) {
		listenOn := host.ListenUDP
		if a.Is6() {
			listenOn = host.ListenUDP6
		}
		u, err := listenOn(netip.AddrPortFrom(a, gatewayPort))
		if err != nil {
			closeAll()
			t.Fatal(err)
		}
		udps = append(udps, u)
		alt, err := listenOn(netip.AddrPortFrom(a, 0))
		if err != nil {
			closeAll()
			t.Fatal(err)
		}
		alts = append(alts, alt)
		listen = append(listen, netip.AddrPortFrom(a, gatewayPort).String())
	}
	g, err := gateway.New(gateway.Config{Listen: listen}, id, testLog("gateway"))
	if err != nil {
		closeAll()
		t.Fatal(err)
	}
	if err := g.StartOn(udps, alts...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Errorf("closing gateway: %v", err)
		}
	})
	return g
}

// gatewayName is the name lab peers know a dual-stack gateway by.
const gatewayName = "gateway.natlab"

// peerConfigByName is peerConfig with the gateway known by a name that
// resolves, as a dual-stack gateway's A and AAAA records do, to its first
// IPv6 address and then its first IPv4 one.
func peerConfigByName(g *gateway.Gateway, gw *natlab.Host) natpunch.ClientConfig {
	cfg := peerConfig(g)
	cfg.Gateways = []connector.Target{{NodeID: g.NodeID(), Endpoint: gatewayName + ":" + strconv.Itoa(gatewayPort)}}
	cfg.TCPRelay = wire.TCPOff
	cfg.Resolve = func(_ context.Context, host string) ([]netip.Addr, error) {
		if host != gatewayName {
			return nil, errors.New("no such host")
		}
		return []netip.Addr{gw.Addrs6()[0], gw.Addrs()[0]}, nil
	}
	return cfg
}

// TestIPv6Firewall checks the lab's IPv6 routers: an unsolicited packet
// from another site is dropped, and a send from both sides opens both
// firewalls, as a hole punch needs.
func TestIPv6Firewall(t *testing.T) {
	lab := natlab.New(t, natlab.WithIPv6())
	ha := lab.AddNAT("fa", natlab.PortRestricted).AddHost("a")
	hb := lab.AddNAT("fb", natlab.Symmetric).AddHost("b")
	if len(ha.Addrs6()) != 1 || len(hb.Addrs6()) != 1 {
		t.Fatalf("hosts' IPv6 addresses %v, %v; want one each", ha.Addrs6(), hb.Addrs6())
	}
	ua, err := ha.ListenUDP6(netip.AddrPortFrom(ha.Addrs6()[0], 0))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	ub, err := hb.ListenUDP6(netip.AddrPortFrom(hb.Addrs6()[0], 0))
	if err != nil {
		t.Fatal(err)
	}
	defer ub.Close()
	aAddr, bAddr := ua.LocalAddr().(*net.UDPAddr).AddrPort(), ub.LocalAddr().(*net.UDPAddr).AddrPort()
	send := func(u *net.UDPConn, to netip.AddrPort) {
		t.Helper()
		if _, err := u.WriteToUDPAddrPort([]byte("punch"), to); err != nil {
			t.Fatal(err)
		}
	}
	// received reports whether u gets a packet from `from` within d.
	received := func(u *net.UDPConn, from netip.AddrPort, d time.Duration) bool {
		t.Helper()
		u.SetReadDeadline(time.Now().Add(d))
		buf := make([]byte, 64)
		for range 8 {
			_, src, err := u.ReadFromUDPAddrPort(buf)
			if err != nil {
				return false
			}
			if src == from {
				return true
			}
		}
		return false
	}
	send(ua, bAddr) // opens a's firewall toward b; b's drops it
	if received(ub, aAddr, 300*time.Millisecond) {
		t.Fatal("b's router let an unsolicited IPv6 packet in")
	}
	send(ub, aAddr) // opens b's firewall toward a; a's lets it in
	if !received(ua, bAddr, 5*time.Second) {
		t.Fatal("a's router dropped b's answer to a flow a opened")
	}
	send(ua, bAddr)
	if !received(ub, aAddr, 5*time.Second) {
		t.Fatal("b's router dropped a's packet after b sent to a")
	}
}

// ipv6Pairs are the kinds of pairs that relay over IPv4 (mustRelay) and
// that IPv6 behind stateful firewalls should let meet directly.
var ipv6Pairs = [][2]natlab.Kind{
	{natlab.PortRestricted, natlab.Symmetric},
	{natlab.DockerHost, natlab.Symmetric},
	{natlab.Symmetric, natlab.Symmetric},
}

// TestMatrixIPv6 runs, in one lab with IPv6, the pairs of ipv6Pairs twice:
// at sites without IPv6 (relayed, as in TestMatrix) and at sites whose
// routers also route IPv6 behind a stateful firewall, with the gateway
// known by a name with an AAAA and an A record (punched or direct, over
// IPv6). A last pair has IPv6 on one side only: it relays, through a
// gateway one side reaches over IPv6 and the other over IPv4.
func TestMatrixIPv6(t *testing.T) {
	runIPv6Matrix(t, "PEERBRIDGE_NATLAB_IPV6_TABLE")
}

// TestMatrixIPv6WAN is TestMatrixIPv6 across TestMatrixWAN's wired lab: 40
// ms of round trip with up to 20 ms of jitter.
func TestMatrixIPv6WAN(t *testing.T) {
	runIPv6Matrix(t, "PEERBRIDGE_NATLAB_IPV6_WAN_TABLE", natlab.WithWire(wanWire))
}

// runIPv6Matrix runs TestMatrixIPv6's pairs in a lab made with opts and
// writes the table to the file the environment variable tableEnv names,
// if set.
func runIPv6Matrix(t *testing.T, tableEnv string, opts ...natlab.Option) {
	lab := natlab.New(t, append([]natlab.Option{natlab.WithIPv6()}, opts...)...)
	gwHost := lab.AddPublicHost("gw", 2)
	g := startDualGateway(t, gwHost)
	type row struct {
		pair matrixPair
		cfg  natpunch.ClientConfig
	}
	var rows []row
	for i, k := range ipv6Pairs {
		n4, n6 := "v4m"+strconv.Itoa(i), "v6m"+strconv.Itoa(i)
		rows = append(rows,
			row{matrixPair{
				a: k[0] + "/v4", b: k[1] + "/v4", want: "relayed",
				ha: lab.AddNAT4(n4+"-na", k[0]).AddHost(n4 + "-a"),
				hb: lab.AddNAT4(n4+"-nb", k[1]).AddHost(n4 + "-b"),
			}, peerConfig(g)},
			row{matrixPair{
				a: k[0] + "/v6", b: k[1] + "/v6", want: "direct|punched",
				ha: lab.AddNAT(n6+"-na", k[0]).AddHost(n6 + "-a"),
				hb: lab.AddNAT(n6+"-nb", k[1]).AddHost(n6 + "-b"),
			}, peerConfigByName(g, gwHost)})
	}
	rows = append(rows, row{matrixPair{
		a: natlab.Symmetric + "/v6", b: natlab.Symmetric + "/v4", want: "relayed",
		ha: lab.AddNAT("mix-na", natlab.Symmetric).AddHost("mix-a"),
		hb: lab.AddNAT4("mix-nb", natlab.Symmetric).AddHost("mix-b"),
	}, peerConfigByName(g, gwHost)})
	results := make([]pairResult, len(rows)) // each subtest writes its own
	t.Run("pairs", func(t *testing.T) {
		for i, r := range rows {
			t.Run(string(r.pair.a)+"-"+string(r.pair.b), func(t *testing.T) {
				t.Parallel()
				results[i] = runPair(t, r.pair, r.cfg, false)
				if got := results[i].remote; r.pair.want != "relayed" && !(got.Addr().Is6() && !got.Addr().Is4In6()) {
					t.Errorf("%s / %s: path to %v, want one over IPv6", r.pair.a, r.pair.b, got)
				}
			})
		}
	})
	// The kinds carry a family, so matrixTable keeps the rows' order.
	table := matrixTable(results)
	t.Logf("IPv4 and IPv6:\n%s", table)
	if f := os.Getenv(tableEnv); f != "" {
		if err := os.WriteFile(f, []byte(table), 0o644); err != nil {
			t.Errorf("writing the table: %v", err)
		}
	}
}
