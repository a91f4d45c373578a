package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/membership"
	"github.com/peerbridge/peerbridge/modules"
	"github.com/peerbridge/peerbridge/modules/admin"
	"github.com/peerbridge/peerbridge/modules/logging"
	"github.com/peerbridge/peerbridge/modules/status"
	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// runFlags are the flags of 'peerbridge run'.
type runFlags struct {
	cfg       modules.Config
	peers     targetsFlag
	gateways  targetsFlag
	serve     serveFlag
	logLevel  slog.Level
	logFormat string
	config    *string
}

func newRunFlags(stderr io.Writer) (*flag.FlagSet, *runFlags) {
	fs := flag.NewFlagSet("peerbridge run", flag.ContinueOnError)
	f := &runFlags{serve: serveFlag{}, peers: targetsFlag{needBoth: true}, gateways: targetsFlag{needBoth: true}}
	c := &f.cfg
	fs.StringVar(&c.Listen, "listen", modules.DefaultListen, "QUIC UDP `ADDR` to listen and dial from")
	fs.StringVar(&c.KeyFile, "key", "", keyFlagUsage(modules.DefaultKeyFile))
	fs.StringVar(&c.NATS.URL, "nats-url", "", "external NATS `URL` (env NATS_URL); empty runs an embedded nats-server")
	fs.StringVar(&c.NATS.Listen, "nats-listen", modules.DefaultNATSListen, "client `ADDR` of the embedded nats-server")
	fs.StringVar(&c.NATS.CredsFile, "nats-creds", "", "credentials `FILE` for the external NATS")
	fs.StringVar(&c.NATS.CAFile, "nats-ca", "", "CA certificate `FILE` for TLS to the external NATS")
	fs.StringVar(&c.NATS.CertFile, "nats-cert", "", "client certificate `FILE` for TLS to the external NATS")
	fs.StringVar(&c.NATS.KeyFile, "nats-key", "", "client key `FILE` for TLS to the external NATS")
	fs.Var(&f.peers, "peer", "static peer `NODEID@host:port` (repeatable)")
	fs.Var(&f.gateways, "gateway", "gateway `NODEID@host:port` for NAT traversal (repeatable)")
	fs.StringVar(&c.TCPRelay, "tcp-relay", "", "TCP relay `host:port` of the first gateway, used when UDP to it gets no answer (default: the gateway's own host:port; off: never); HTTPS_PROXY is honoured")
	fs.BoolVar(&c.PortMapping, "port-mapping", true, "with --gateway, ask the router for a mapping of the UDP port (UPnP, NAT-PMP or PCP) and register it as a candidate, so peers reach this bridge directly")
	fs.Var(f.serve, "serve", "answer inbound requests of `TYPE=SUBJECT` from that NATS subject (repeatable)")
	fs.StringVar(&c.Prefix, "prefix", bridge.DefaultPrefix, "subject `PREFIX`: <prefix>.send.>, <prefix>.request.>, <prefix>.recv.<type>")
	fs.StringVar(&c.QueueGroup, "queue", bridge.DefaultQueueGroup, "NATS queue `GROUP` shared by bridges on one NATS")
	fs.DurationVar(&c.Timeout, "timeout", bridge.DefaultTimeout, "default timeout of sends and requests")
	fs.DurationVar(&c.ReplyTimeout, "reply-timeout", bridge.DefaultReplyTimeout, "default timeout of requests and sends with a reply subject, whose requester waits on NATS (below the stock nats request's 5s; at most --timeout)")
	fs.DurationVar(&c.Grace, "grace", modules.DefaultGrace, "how long in-flight requests may finish at shutdown")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", connector.DefaultIdleTimeout, "close peer connections idle this long")
	fs.IntVar(&c.MaxPayload, "max-payload", bridge.DefaultMaxPayload, "largest payload forwarded, in bytes")
	fs.IntVar(&c.MaxTargets, "max-targets", bridge.DefaultMaxTargets, "most distinct peers one message may name (Peer-Node, Peer-Endpoint); past it the message is answered 400")
	httpFlags(fs, &c.HTTP, &c.HTTPMaxConns, "127.0.0.1:9090")
	accessFlags(fs, &c.Access, "bridge")
	c.Limits = runLimits()
	limitFlags(fs, &c.Limits)
	queueFlags(fs, &c.Limits)
	natLimitFlags(fs, &c.NATLimits)
	fs.TextVar(&f.logLevel, "log-level", slog.LevelInfo, "log `LEVEL`: debug, info, warn, error")
	fs.StringVar(&f.logFormat, "log-format", logging.FormatText, "log `FORMAT`: text or json")
	f.config = addConfigFlag(fs)
	fs.Usage = func() { printRunHelp(stderr, fs) }
	return fs, f
}

// check reports the first bad flag value.
func (f *runFlags) check() error {
	var c checks
	c.addr("listen", f.cfg.Listen, modules.DefaultListen, false)
	if f.cfg.NATS.URL == "" {
		c.addr("nats-listen", f.cfg.NATS.Listen, modules.DefaultNATSListen, false)
	}
	c.addr("http", f.cfg.HTTP, "127.0.0.1:9090", true)
	c.positive("http-max-conns", f.cfg.HTTPMaxConns, fmt.Sprint(admin.DefaultMaxConns))
	if f.cfg.TCPRelay != wire.TCPOff {
		c.addr("tcp-relay", f.cfg.TCPRelay, "gateway.example.com:443", true)
	}
	c.positive("max-payload", f.cfg.MaxPayload, fmt.Sprint(bridge.DefaultMaxPayload))
	c.positive("max-targets", f.cfg.MaxTargets, fmt.Sprint(bridge.DefaultMaxTargets))
	c.duration("timeout", f.cfg.Timeout, bridge.DefaultTimeout.String())
	c.duration("reply-timeout", f.cfg.ReplyTimeout, bridge.DefaultReplyTimeout.String())
	c.duration("grace", f.cfg.Grace, modules.DefaultGrace.String())
	c.duration("idle-timeout", f.cfg.IdleTimeout, connector.DefaultIdleTimeout.String())
	return c.err()
}

// httpFlags adds --http and --http-max-conns; example is an address for
// the help.
func httpFlags(fs *flag.FlagSet, addr *string, maxConns *int, example string) {
	fs.StringVar(addr, "http", "", "TCP `ADDR` to serve /metrics and /healthz on, e.g. "+example+"; without a host (:9090) it is loopback's, other hosts need one (0.0.0.0:9090) (off if empty)")
	fs.IntVar(maxConns, "http-max-conns", admin.DefaultMaxConns, "most connections open to --http; past it the one idle longest is closed, or the new one if none is idle")
}

// natLimitFlags binds the bounds on what peers can have NAT traversal do
// to flags.
func natLimitFlags(fs *flag.FlagSet, l *modules.NATLimits) {
	fs.IntVar(&l.PunchPackets, "punch-packets", natpunch.DefaultPunchPackets, "most packets one hole punch sends")
	fs.IntVar(&l.PunchesPerMinute, "punches-per-minute", natpunch.DefaultPunchesPerMinute, "hole punches one peer can have this bridge make per minute")
	fs.IntVar(&l.MaxPunches, "max-punches", natpunch.DefaultMaxPunches, "hole punches for peers at once")
	fs.DurationVar(&l.RelayIdleTimeout, "relay-idle-timeout", natpunch.DefaultRelayIdleTimeout, "end relay sessions idle this long (must be above the 15 s QUIC keep-alive)")
	fs.IntVar(&l.MaxRelaySessionsPerPeer, "relay-sessions-per-peer", natpunch.DefaultRelaySessionsPerPeer, "most relay sessions with one peer")
	fs.IntVar(&l.MaxRelaySessions, "max-relay-sessions", natpunch.DefaultRelaySessions, "most relay sessions in all")
}

func runBridge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newRunFlags(stderr)
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
	f.cfg.Peers, f.cfg.Gateways, f.cfg.Serve = f.peers.targets, f.gateways.targets, f.serve
	version, _ := buildVersion()
	f.cfg.Version = status.ServiceVersion(version)
	explicitKey := f.cfg.KeyFile != ""
	key, newKey, err := keyFile(f.cfg.KeyFile, modules.DefaultKeyFile, os.Getenv)
	if err != nil {
		return err
	}
	f.cfg.KeyFile = key

	var (
		conn *connector.Connector
		nc   *modules.NATS
		http *admin.Server
		p    *membership.Policy
		stop stopping
	)
	app := fx.New(
		fxLogger(log, &stop),
		fx.Supply(log),
		modules.Daemon(f.cfg),
		fx.Populate(&conn, &nc, &http, &p),
		fx.StopTimeout(f.cfg.Grace+shutdownSlack),
	)
	if err := app.Start(ctx); err != nil {
		return startError(err)
	}
	if newKey {
		logNewKey(log, key, conn.NodeID().String(), modules.DefaultKeyFile, explicitKey)
	}
	warnIfOpen(log, p, "bridge")
	fmt.Fprintf(stdout, "node: %s\nquic: %s\nnats: %s\n", conn.NodeID(), conn.Addr(), nc.ClientURL)
	if http != nil {
		fmt.Fprintf(stdout, "http: %s\n", http.Addr())
	}
	<-ctx.Done()
	log.Info("shutting down", "grace", f.cfg.Grace, "cause", context.Cause(ctx), "hint", "a second signal stops at once")
	return stopApp(app, &stop, f.cfg.Grace+shutdownSlack, log, func() []any {
		s := conn.Stats()
		return []any{"inbound_requests", s.InboundRequests, "peer_conns", s.Conns}
	})
}

// runLimits returns the defaults of the limit flags of 'peerbridge run',
// the connector's.
func runLimits() modules.Limits {
	return modules.Limits{
		MaxConns: connector.DefaultMaxConns, MaxConnsPerIP: connector.DefaultMaxConnsPerIP,
		MaxConnsPerPeer: connector.DefaultMaxConnsPerPeer, MaxStreams: connector.DefaultMaxStreams,
		MaxInboundRequests:        connector.DefaultMaxInboundRequests,
		MaxInboundRequestsPerPeer: connector.DefaultMaxInboundRequestsPerPeer,
		FrameTimeout:              connector.DefaultFrameTimeout,
	}
}

// gatewayLimits returns the defaults of the limit flags of 'peerbridge
// gateway': the connector's, except that many bridges may register from
// one address (a carrier-grade NAT).
func gatewayLimits() modules.Limits {
	l := runLimits()
	l.MaxConns, l.MaxConnsPerIP = gateway.DefaultMaxConns, gateway.DefaultMaxConnsPerIP
	return l
}

// queueFlags adds the flags of the bounds on messages waiting to be sent
// to peers.
func queueFlags(fs *flag.FlagSet, l *modules.Limits) {
	fs.IntVar(&l.MaxQueue, "max-queue", connector.DefaultMaxQueue, "most messages waiting to be sent to one peer or acknowledged by it; past it sends to that peer are answered 503 busy (the byte bounds decide first by default)")
	fs.IntVar(&l.MaxQueues, "max-queues", connector.DefaultMaxQueues, "most peers with messages waiting at once; past it sends to further peers are answered 503 busy")
	fs.IntVar(&l.MaxQueuedBytes, "max-queued-bytes", connector.DefaultMaxQueuedBytes, "most bytes of messages waiting to be sent or acknowledged, all peers together (payload and headers plus 1 KiB each); past it sends are answered 503 busy")
	fs.IntVar(&l.MaxQueuedBytesPerPeer, "max-queued-bytes-per-peer", 0, "most bytes of messages waiting to be sent to one peer or acknowledged by it (payload and headers plus 1 KiB each); past it sends to that peer are answered 503 busy (0: 256 MiB, or half --max-queued-bytes if that is less)")
}

// limitFlags adds the flags of the limits on what peers can make the
// daemon hold, with l's values as their defaults.
func limitFlags(fs *flag.FlagSet, l *modules.Limits) {
	fs.IntVar(&l.MaxConns, "max-conns", l.MaxConns, "most inbound peer connections at once; past it new ones are refused")
	fs.IntVar(&l.MaxConnsPerIP, "max-conns-per-ip", l.MaxConnsPerIP, "most inbound peer connections at once from one IP address (IPv6: one /64)")
	fs.IntVar(&l.MaxConnsPerPeer, "max-conns-per-peer", l.MaxConnsPerPeer, "most connections at once with one node ID")
	fs.IntVar(&l.MaxStreams, "max-streams", l.MaxStreams, "most concurrent streams a peer may open on one connection")
	fs.IntVar(&l.MaxInboundRequests, "max-inbound-requests", l.MaxInboundRequests, "most requests from peers served at once; past it they are answered 503")
	fs.IntVar(&l.MaxInboundRequestsPerPeer, "max-inbound-requests-per-peer", l.MaxInboundRequestsPerPeer, "most requests from one peer served at once; past it they are answered 503")
	fs.IntVar(&l.MaxInboundRequestBytes, "max-inbound-request-bytes", l.MaxInboundRequestBytes, "most payload bytes that requests from peers being served may hold; past it they are answered 503; payloads up to 64 KiB do not count (0: 128 MiB, or --max-payload if larger)")
	fs.IntVar(&l.FrameBudget, "frame-budget", l.FrameBudget, "most bytes that frames still arriving may hold, all peers together (0: 64 MiB, or --frame-budget-per-conn if larger)")
	fs.IntVar(&l.ConnFrameBudget, "frame-budget-per-conn", l.ConnFrameBudget, "most bytes that frames still arriving may hold on one connection, at least one frame of --max-payload (0: 16 MiB, or one such frame if larger)")
	fs.DurationVar(&l.FrameTimeout, "frame-timeout", l.FrameTimeout, "how long a frame may take to arrive once it has started")
}
