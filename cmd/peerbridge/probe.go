package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/natpunch/portmap"
)

// probeResult is one gateway's report, with whether the gateway proved
// the node ID it was named by.
type probeResult struct {
	*natpunch.Report
	Node        string `json:"node"`
	NodeChecked bool   `json:"node_checked"`
	// PortMapping lists what the LAN's router offers: "UPnP, NAT-PMP,
	// PCP", some of them, or "none".
	PortMapping string `json:"port_mapping"`
	// OtherFamily is what the gateway saw over the other IP family, where
	// its name has an address there and the socket can use it: the
	// public address ("[2001:db8::7]:41641"), or "no answer". Empty when
	// not asked (as tailscale netcheck's IPv4 and IPv6 lines).
	OtherFamily string `json:"other_family,omitempty"`
}

// portMapWait bounds the question to the router: it runs while the
// gateways are probed.
const portMapWait = 3 * time.Second

func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("peerbridge probe", flag.ContinueOnError)
	gateways := targetsFlag{needBoth: true}
	fs.Var(&gateways, "gateway", "gateway `NODEID@host:port` to probe, the host a name or an IP address (repeatable)")
	listen := fs.String("listen", "0.0.0.0:0", "UDP `ADDR` to probe from")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long, e.g. 5s")
	askRouter := fs.Bool("port-mapping", true, "ask the LAN's router which port mapping protocols it offers")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: peerbridge probe --gateway NODEID@host:port [--json]\n\nReports this host's public address and NAT behaviour (RFC 4787 mapping and\nfiltering) as seen by a gateway, and \"udp: blocked\" when only the gateway's\nTCP relay answers. It checks that the gateway holds the key of NODEID, and\nfails if it does not. It also asks the LAN's router which port mapping\nprotocols it offers (UPnP, NAT-PMP, PCP).")
		printFlags(stderr, fs, probeFlagGroups()...)
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if len(gateways.targets) == 0 {
		return &usageError{errors.New("--gateway NODEID@host:port is required (see 'peerbridge probe --help')")}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	offers := make(chan string, 1)
	go func() { offers <- probePortMapping(ctx, *askRouter, *listen) }()
	results, err := probeAll(ctx, *listen, gateways.targets)
	pm := <-offers
	if err != nil {
		return err
	}
	for i := range results {
		results[i].PortMapping = pm
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if len(results) == 1 {
			return enc.Encode(results[0])
		}
		return enc.Encode(results)
	}
	for _, r := range results {
		fmt.Fprintf(stdout, "gateway:    %s\nnode:       %s (checked)\n%s", r.Gateway, r.Node, r.Report)
		if r.OtherFamily != "" {
			fmt.Fprintf(stdout, "%s:       %s\n", otherFamilyName(r.Gateway), r.OtherFamily)
		}
		fmt.Fprintf(stdout, "port map:   %s\n\n", r.PortMapping)
	}
	return nil
}

// probePortMapping asks the default gateway which of UPnP, NAT-PMP and
// PCP it offers, unless told not to or probing from loopback (a loopback
// socket is never mapped).
func probePortMapping(ctx context.Context, ask bool, listen string) string {
	if ap, err := netip.ParseAddrPort(listen); !ask || err == nil && ap.Addr().IsLoopback() {
		return "not asked"
	}
	ctx, cancel := context.WithTimeout(ctx, portMapWait)
	defer cancel()
	o, err := portmap.Probe(ctx, netip.Addr{}, nil)
	if err != nil {
		return "none (" + err.Error() + ")"
	}
	return o.String()
}

// probeFlagGroups are the groups of 'peerbridge probe --help'.
func probeFlagGroups() []flagGroup {
	return []flagGroup{
		{"Probe", "peerbridge probe --gateway NODEID@gateway.example.com:9444 --gateway NODEID2@198.51.100.2:9444 --json",
			[]string{"gateway", "listen", "timeout", "port-mapping", "json"}},
	}
}

// probeAll probes the NAT against each gateway from a fresh key and a
// socket on listen.
func probeAll(ctx context.Context, listen string, gateways []connector.Target) ([]probeResult, error) {
	id, err := identity.Generate()
	if err != nil {
		return nil, err
	}
	c, err := connector.New(connector.Config{ListenAddr: listen}, id, nil)
	if err != nil {
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	defer c.Close()
	cl, err := natpunch.NewClient(c, natpunch.ClientConfig{}, nil)
	if err != nil {
		return nil, err
	}
	if err := cl.Start(ctx); err != nil {
		return nil, err
	}
	defer cl.Close()
	var results []probeResult
	for _, gw := range gateways {
		r, err := probeOne(ctx, c, cl, gw)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	return results, nil
}

// probeOne probes gateway gw over UDP, checking its node ID with a QUIC
// handshake, or else over its TCP relay, whose handshake checks it too.
func probeOne(ctx context.Context, c *connector.Connector, cl *natpunch.Client, gw connector.Target) (probeResult, error) {
	ap, other, err := resolveUDP(ctx, gw.Endpoint, c.Addr().Addr().Is4())
	if err != nil {
		return probeResult{}, err
	}
	r, err := cl.Probe(ctx, ap)
	if errors.Is(err, natpunch.ErrNoAnswer) {
		// UDP gets no answer: if the TCP relay does, UDP is blocked.
		if tr, terr := cl.ProbeTCP(ctx, gw); terr == nil {
			return probeResult{Report: tr, Node: gw.NodeID.String(), NodeChecked: true}, nil
		}
	}
	if err != nil {
		return probeResult{}, err
	}
	if _, err := c.DialPath(ctx, nil, net.UDPAddrFromAddrPort(ap), gw.NodeID, connector.PathDirect); err != nil {
		return probeResult{}, fmt.Errorf("checking the node ID of gateway %s: %w", gw.Endpoint, err)
	}
	return probeResult{Report: r, Node: gw.NodeID.String(), NodeChecked: true, OtherFamily: probeOtherFamily(ctx, c, cl, other)}, nil
}

// probeOtherFamily asks the gateway at other, its address in the family
// the first probe did not use (invalid if its name has none), which
// address it sees this host at, where the socket can send to that family:
// a dual-stack host learns both of its public addresses, as tailscale
// netcheck reports IPv4 and IPv6.
func probeOtherFamily(ctx context.Context, c *connector.Connector, cl *natpunch.Client, other netip.AddrPort) string {
	if !other.IsValid() || !c.Addr().Addr().Is6() || !c.Addr().Addr().IsUnspecified() {
		return "" // a socket bound to one family reaches only that one
	}
	r, err := cl.Probe(ctx, other)
	if err != nil {
		return "no answer"
	}
	return r.Public
}

// otherFamilyName names the family the gateway address gw is not in.
func otherFamilyName(gw string) string {
	if ap, err := netip.ParseAddrPort(gw); err == nil && ap.Addr().Unmap().Is4() {
		return "ipv6"
	}
	return "ipv4"
}

// resolveUDP resolves a host:port, the host a name or an IP address, to
// one address, IPv4 if it has one; only IPv4 ones if ipv4 (a socket bound
// to an IPv4 address cannot reach others). other is the first address of
// the other family, invalid if there is none.
func resolveUDP(ctx context.Context, endpoint string, ipv4 bool) (ap, other netip.AddrPort, err error) {
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		return ap, other, &usageError{fmt.Errorf("gateway endpoint %q: want host:port", endpoint)}
	}
	network := "ip"
	if ipv4 {
		network = "ip4"
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
	if err != nil {
		return ap, other, fmt.Errorf("gateway endpoint %q: %w", endpoint, err)
	}
	p, err := net.DefaultResolver.LookupPort(ctx, "udp", port)
	if err != nil {
		return ap, other, &usageError{fmt.Errorf("gateway endpoint %q: %w", endpoint, err)}
	}
	ip := ips[0].Unmap()
	if i := slices.IndexFunc(ips, func(a netip.Addr) bool { return a.Unmap().Is4() }); i >= 0 {
		ip = ips[i].Unmap()
	}
	if i := slices.IndexFunc(ips, func(a netip.Addr) bool { return a.Unmap().Is4() != ip.Is4() }); i >= 0 {
		other = netip.AddrPortFrom(ips[i].Unmap(), uint16(p))
	}
	return netip.AddrPortFrom(ip, uint16(p)), other, nil
}
