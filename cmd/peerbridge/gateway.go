package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/connector/membership"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
	"github.com/peerbridge/peerbridge/modules"
	"github.com/peerbridge/peerbridge/modules/admin"
	"github.com/peerbridge/peerbridge/modules/logging"
	"github.com/peerbridge/peerbridge/natpunch/fleet"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (f *listFlag) String() string     { return strings.Join(*f, ",") }
func (f *listFlag) Set(s string) error { *f = append(*f, s); return nil }

// gatewayFlags are the flags of 'peerbridge gateway'.
type gatewayFlags struct {
	cfg       modules.GatewayConfig
	listen    listFlag
	listenTCP listFlag
	advertise listFlag
	logLevel  slog.Level
	logFormat string
	config    *string
}

func newGatewayFlags(stderr io.Writer) (*flag.FlagSet, *gatewayFlags) {
	fs := flag.NewFlagSet("peerbridge gateway", flag.ContinueOnError)
	f := &gatewayFlags{}
	cfg := &f.cfg
	fs.StringVar(&cfg.KeyFile, "key", "", keyFlagUsage(modules.DefaultGatewayKeyFile))
	fs.Var(&f.listen, "listen", "UDP `ADDR` to serve on (repeatable; default "+gateway.DefaultListen+"; a second address on another IP and port lets NAT probes tell filtering and mapping apart)")
	fs.Var(&f.listenTCP, "listen-tcp", "TCP `ADDR` of the relay over TLS and WebSocket, for bridges whose networks block UDP (repeatable; default: the host:port of each --listen, so one port number serves both; off: none)")
	fs.IntVar(&cfg.Gateway.TCP.MaxConns, "tcp-max-conns", gateway.DefaultTCPMaxConns, "most TCP relay connections in all")
	fs.IntVar(&cfg.Gateway.TCP.MaxConnsPerIP, "tcp-max-conns-per-ip", gateway.DefaultTCPMaxConnsPerIP, "most TCP relay connections from one IP address")
	fs.DurationVar(&cfg.Gateway.RegistrationTTL, "registration-ttl", gateway.DefaultRegistrationTTL, "how long a bridge's registration lasts without a refresh")
	fs.Var(&f.advertise, "advertise", "`ADDR` other gateways of the fleet and bridges reach each --listen at, in their order (repeatable; default: the bound address; needed in a fleet for a --listen on 0.0.0.0)")
	fs.StringVar(&cfg.Fleet.URL, "nats-url", "", "NATS `URL` of the fleet of gateways to join: registrations at any of them are found, punched and relayed through every one (empty: a gateway on its own)")
	fs.StringVar(&cfg.Fleet.CredsFile, "nats-creds", "", "credentials `FILE` for the fleet's NATS")
	fs.StringVar(&cfg.Fleet.CAFile, "nats-ca", "", "CA certificate `FILE` for TLS to the fleet's NATS")
	fs.StringVar(&cfg.Fleet.CertFile, "nats-cert", "", "client certificate `FILE` for TLS to the fleet's NATS")
	fs.StringVar(&cfg.Fleet.KeyFile, "nats-key", "", "client key `FILE` for TLS to the fleet's NATS")
	fs.StringVar(&cfg.FleetPrefix, "fleet-prefix", fleet.DefaultPrefix, "subject `PREFIX` the fleet's gateways share")
	httpFlags(fs, &cfg.HTTP, &cfg.HTTPMaxConns, "127.0.0.1:9091")
	accessFlags(fs, &cfg.Access, "gateway")
	cfg.Limits = gatewayLimits()
	limitFlags(fs, &cfg.Limits)
	cfg.Gateway.Relay, cfg.Gateway.Limits = gateway.DefaultRelayLimits(), gateway.DefaultLimits()
	relayFlags(fs, &cfg.Gateway.Relay)
	gatewayLimitFlags(fs, &cfg.Gateway.Limits)
	fs.TextVar(&f.logLevel, "log-level", slog.LevelInfo, "log `LEVEL`: debug, info, warn, error")
	fs.StringVar(&f.logFormat, "log-format", logging.FormatText, "log `FORMAT`: text or json")
	f.config = addConfigFlag(fs)
	fs.Usage = func() { printGatewayHelp(stderr, fs) }
	return fs, f
}

// check fills in the default --listen and reports the first bad flag
// value.
func (f *gatewayFlags) check() error {
	if len(f.listen) == 0 {
		f.listen = listFlag{gateway.DefaultListen}
	}
	var c checks
	for _, l := range f.listen {
		c.addr("listen", l, gateway.DefaultListen, false)
	}
	for _, l := range f.listenTCP {
		if l != wire.TCPOff {
			c.addr("listen-tcp", l, "0.0.0.0:443", false)
		}
	}
	for _, a := range f.advertise {
		c.ipPort("advertise", a, "203.0.113.1:9444")
	}
	c.duration("registration-ttl", f.cfg.Gateway.RegistrationTTL, gateway.DefaultRegistrationTTL.String())
	c.positive("tcp-max-conns", f.cfg.Gateway.TCP.MaxConns, fmt.Sprint(gateway.DefaultTCPMaxConns))
	c.positive("tcp-max-conns-per-ip", f.cfg.Gateway.TCP.MaxConnsPerIP, fmt.Sprint(gateway.DefaultTCPMaxConnsPerIP))
	c.addr("http", f.cfg.HTTP, "127.0.0.1:9091", true)
	c.positive("http-max-conns", f.cfg.HTTPMaxConns, fmt.Sprint(admin.DefaultMaxConns))
	return c.err()
}

func runGateway(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newGatewayFlags(stderr)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if err := applyConfig(fs, *f.config, os.LookupEnv); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	log, err := logging.New(stderr, f.logFormat, f.logLevel)
	if err != nil {
		return &usageError{fmt.Errorf("--log-format %q: want text or json", f.logFormat)}
	}
	cfg := &f.cfg
	explicitKey := cfg.KeyFile != ""
	key, newKey, err := keyFile(cfg.KeyFile, modules.DefaultGatewayKeyFile, os.Getenv)
	if err != nil {
		return err
	}
	cfg.KeyFile = key
	cfg.Gateway.Listen = f.listen
	cfg.Gateway.ListenTCP = f.listenTCP
	cfg.Gateway.Advertise = f.advertise
	var (
		g    *gateway.Gateway
		http *admin.Server
		p    *membership.Policy
		stop stopping
	)
	app := fx.New(fxLogger(log, &stop), fx.Supply(log), modules.GatewayModule(*cfg), fx.Populate(&g, &http, &p))
	if err := app.Start(ctx); err != nil {
		return startError(err)
	}
	if newKey {
		logNewKey(log, key, g.NodeID().String(), modules.DefaultGatewayKeyFile, explicitKey)
	}
	warnIfOpen(log, p, "gateway")
	fmt.Fprintf(stdout, "node: %s\n", g.NodeID())
	for _, a := range g.Addrs() {
		fmt.Fprintf(stdout, "gateway: %s@%s\n", g.NodeID(), a)
	}
	for _, a := range g.TCPAddrs() {
		fmt.Fprintf(stdout, "tcp relay: %s\n", a)
	}
	if http != nil {
		fmt.Fprintf(stdout, "http: %s\n", http.Addr())
	}
	<-ctx.Done()
	log.Info("shutting down", "cause", context.Cause(ctx), "hint", "a second signal stops at once")
	return stopApp(app, &stop, 2*shutdownSlack, log, func() []any { return nil })
}

// relayFlags binds the gateway's relay limits to flags, with their
// defaults.
func relayFlags(fs *flag.FlagSet, l *gateway.RelayLimits) {
	fs.Int64Var(&l.MaxBytes, "relay-max-bytes", l.MaxBytes, "most bytes relayed per session (0: unlimited)")
	fs.Int64Var(&l.MaxRate, "relay-max-rate", l.MaxRate, "most bytes per second relayed per session (-1: unlimited)")
	fs.DurationVar(&l.MaxDuration, "relay-max-duration", l.MaxDuration, "longest relay session (0: unlimited)")
	fs.Float64Var(&l.ClientPackets.PerSecond, "relay-client-rate", l.ClientPackets.PerSecond, "most packets per second one node sends through the relay, over all its sessions (-1: unlimited)")
	fs.IntVar(&l.ClientPackets.Burst, "relay-client-burst", l.ClientPackets.Burst, "burst of packets one node may send through the relay above its rate")
	fs.Float64Var(&l.ReceivePackets.PerSecond, "relay-receive-rate", l.ReceivePackets.PerSecond, "most packets per second relayed to one node, from all its peers together (-1: unlimited)")
	fs.IntVar(&l.ReceivePackets.Burst, "relay-receive-burst", l.ReceivePackets.Burst, "burst of packets relayed to one node above its rate")
	fs.Float64Var(&l.Packets.PerSecond, "relay-packet-rate", l.Packets.PerSecond, "most packets per second relayed in all (-1: unlimited)")
	fs.IntVar(&l.Packets.Burst, "relay-packet-burst", l.Packets.Burst, "burst of packets relayed in all above the rate")
	fs.IntVar(&l.MaxSessionsPerClient, "relay-sessions-per-client", l.MaxSessionsPerClient, "most relay sessions one node takes part in")
	fs.IntVar(&l.MaxSessions, "relay-max-sessions", l.MaxSessions, "most relay sessions in all")
}

// gatewayLimitFlags binds what one key can make the gateway hold and do
// to flags, with their defaults.
func gatewayLimitFlags(fs *flag.FlagSet, l *gateway.Limits) {
	fs.IntVar(&l.MaxRegistrations, "max-registrations", l.MaxRegistrations, "most registered bridges; new ones are refused past it")
	fs.IntVar(&l.MaxRegistrationsPerIP, "max-registrations-per-ip", l.MaxRegistrationsPerIP, "most registered bridges at one IP address (an IPv6 /64)")
	fs.IntVar(&l.MaxLocalAddrs, "max-local-addrs", l.MaxLocalAddrs, "most local addresses one registration may claim")
	fs.IntVar(&l.MaxRecordBytes, "max-record-bytes", l.MaxRecordBytes, "largest registration, in bytes")
	for _, r := range []struct {
		name, what string
		rate       *ratelimit.Rate
	}{
		{"register", "registrations per key", &l.Registrations},
		{"lookup", "lookups per key", &l.Lookups},
		{"punch", "hole punch requests per key", &l.Punches},
		{"relay-ask", "relay requests per key", &l.Relays},
		{"notify", "hole punch and relay requests toward one node", &l.Notifies},
		{"pair-notify", "hole punch and relay requests of one key toward one node", &l.PairNotifies},
		{"request", "control requests of all keys together", &l.Requests},
	} {
		fs.Float64Var(&r.rate.PerSecond, r.name+"-rate", r.rate.PerSecond, r.what+" per second (-1: unlimited)")
		fs.IntVar(&r.rate.Burst, r.name+"-burst", r.rate.Burst, "burst of "+r.what+" above the rate")
	}
}
