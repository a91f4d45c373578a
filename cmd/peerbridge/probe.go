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
		fmt.Fprintf(stdout, "gateway:    %s\nnode:       %s (checked)\n%sport map:   %s\n\n", r.Gateway, r.Node, r.Report, r.PortMapping)
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
	ap, err := resolveUDP(ctx, gw.Endpoint, c.Addr().Addr().Is4())
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
	return probeResult{Report: r, Node: gw.NodeID.String(), NodeChecked: true}, nil
}

// resolveUDP resolves a host:port, the host a name or an IP address, to
// one address, IPv4 if it has one; only IPv4 ones if ipv4 (a socket bound
// to an IPv4 address cannot reach others).
func resolveUDP(ctx context.Context, endpoint string, ipv4 bool) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		return netip.AddrPort{}, &usageError{fmt.Errorf("gateway endpoint %q: want host:port", endpoint)}
	}
	network := "ip"
	if ipv4 {
		network = "ip4"
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("gateway endpoint %q: %w", endpoint, err)
	}
	p, err := net.DefaultResolver.LookupPort(ctx, "udp", port)
	if err != nil {
		return netip.AddrPort{}, &usageError{fmt.Errorf("gateway endpoint %q: %w", endpoint, err)}
	}
	ip := ips[0].Unmap()
	for _, a := range ips {
		if a.Unmap().Is4() {
			ip = a.Unmap()
			break
		}
	}
	return netip.AddrPortFrom(ip, uint16(p)), nil
}
