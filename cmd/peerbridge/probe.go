package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch"
)

func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("peerbridge probe", flag.ContinueOnError)
	gateways := targetsFlag{needBoth: true}
	fs.Var(&gateways, "gateway", "gateway `NODEID@host:port` to probe (repeatable)")
	listen := fs.String("listen", "0.0.0.0:0", "UDP address to probe from")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: peerbridge probe --gateway NODEID@host:port [--json]\n\nReports this host's public address and NAT behaviour (RFC 4787 mapping and\nfiltering) as seen by a gateway, and \"udp: blocked\" when only the gateway's\nTCP relay answers.")
		printFlags(stderr, fs)
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if len(gateways.targets) == 0 {
		return &usageError{errors.New("--gateway is required")}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	id, err := identity.Generate()
	if err != nil {
		return err
	}
	c, err := connector.New(connector.Config{ListenAddr: *listen}, id, nil)
	if err != nil {
		return err
	}
	if err := c.Start(ctx); err != nil {
		return err
	}
	defer c.Close()
	cl, err := natpunch.NewClient(c, natpunch.ClientConfig{}, nil)
	if err != nil {
		return err
	}
	if err := cl.Start(ctx); err != nil {
		return err
	}
	defer cl.Close()
	var reports []*natpunch.Report
	for _, gw := range gateways.targets {
		ap, err := netip.ParseAddrPort(gw.Endpoint)
		if err != nil {
			return &usageError{fmt.Errorf("gateway endpoint %q: want IP:port", gw.Endpoint)}
		}
		r, err := cl.Probe(ctx, ap)
		if errors.Is(err, natpunch.ErrNoAnswer) {
			// UDP gets no answer: if the TCP relay does, UDP is blocked.
			if tr, terr := cl.ProbeTCP(ctx, gw); terr == nil {
				r, err = tr, nil
			}
		}
		if err != nil {
			return err
		}
		reports = append(reports, r)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if len(reports) == 1 {
			return enc.Encode(reports[0])
		}
		return enc.Encode(reports)
	}
	for _, r := range reports {
		fmt.Fprintf(stdout, "gateway:    %s\n%s\n", r.Gateway, r)
	}
	return nil
}
