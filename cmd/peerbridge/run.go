package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/modules"
	"github.com/peerbridge/peerbridge/natpunch"
)

// runFlags are the flags of 'peerbridge run'.
type runFlags struct {
	cfg      modules.Config
	peers    targetsFlag
	gateways targetsFlag
	serve    serveFlag
	logLevel slog.Level
}

func newRunFlags(stderr io.Writer) (*flag.FlagSet, *runFlags) {
	fs := flag.NewFlagSet("peerbridge run", flag.ContinueOnError)
	f := &runFlags{serve: serveFlag{}, peers: targetsFlag{needBoth: true}, gateways: targetsFlag{needBoth: true}}
	c := &f.cfg
	fs.StringVar(&c.Listen, "listen", "0.0.0.0:9443", "QUIC UDP address to listen and dial from")
	fs.StringVar(&c.KeyFile, "key", "peerbridge.key", "identity key file (created with mode 0600 if missing)")
	fs.StringVar(&c.NATS.URL, "nats-url", "", "external NATS URL; empty runs an embedded nats-server")
	fs.StringVar(&c.NATS.Listen, "nats-listen", "127.0.0.1:4222", "client address of the embedded nats-server")
	fs.StringVar(&c.NATS.CredsFile, "nats-creds", "", "credentials file for the external NATS")
	fs.StringVar(&c.NATS.CAFile, "nats-ca", "", "CA certificate file for TLS to the external NATS")
	fs.StringVar(&c.NATS.CertFile, "nats-cert", "", "client certificate file for TLS to the external NATS")
	fs.StringVar(&c.NATS.KeyFile, "nats-key", "", "client key file for TLS to the external NATS")
	fs.Var(&f.peers, "peer", "static peer `NODEID@host:port` (repeatable)")
	fs.Var(&f.gateways, "gateway", "gateway `NODEID@host:port` for NAT traversal (repeatable)")
	fs.Var(f.serve, "serve", "answer inbound requests of `TYPE=SUBJECT` from that NATS subject (repeatable)")
	fs.StringVar(&c.Prefix, "prefix", "peer", "subject prefix: <prefix>.send.>, <prefix>.request.>, <prefix>.recv.<type>")
	fs.StringVar(&c.QueueGroup, "queue", "peerbridge", "NATS queue group shared by bridges on one NATS")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "default timeout of sends and requests")
	fs.DurationVar(&c.Grace, "grace", 10*time.Second, "how long in-flight requests may finish at shutdown")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", 2*time.Minute, "close peer connections idle this long")
	fs.IntVar(&c.MaxPayload, "max-payload", 1<<20, "largest payload forwarded, in bytes")
	natLimitFlags(fs, &c.NATLimits)
	fs.TextVar(&f.logLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: peerbridge run [flags]\n\nRuns a bridge: NATS subjects peer.send.<type> and peer.request.<type> go to peers\nover QUIC; messages from peers arrive on peer.recv.<type>.\n\nFlags:")
		fs.PrintDefaults()
	}
	return fs, f
}

// natLimitFlags binds the bounds on what peers can have NAT traversal do
// to flags.
func natLimitFlags(fs *flag.FlagSet, l *modules.NATLimits) {
	fs.IntVar(&l.PunchPackets, "punch-packets", natpunch.DefaultPunchPackets, "most packets one hole punch sends")
	fs.IntVar(&l.PunchesPerMinute, "punches-per-minute", natpunch.DefaultPunchesPerMinute, "hole punches one peer can have this bridge make per minute")
	fs.IntVar(&l.MaxPunches, "max-punches", natpunch.DefaultMaxPunches, "hole punches for peers at once")
	fs.DurationVar(&l.RelayIdleTimeout, "relay-idle-timeout", 2*time.Minute, "end relay sessions idle this long (keep it above the 15 s QUIC keep-alive)")
	fs.IntVar(&l.MaxRelaySessionsPerPeer, "relay-sessions-per-peer", natpunch.DefaultRelaySessionsPerPeer, "most relay sessions with one peer")
	fs.IntVar(&l.MaxRelaySessions, "max-relay-sessions", natpunch.DefaultRelaySessions, "most relay sessions in all")
}

func runBridge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newRunFlags(stderr)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	f.cfg.Peers, f.cfg.Gateways, f.cfg.Serve = f.peers.targets, f.gateways.targets, f.serve
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: f.logLevel}))

	var (
		conn *connector.Connector
		nc   *modules.NATS
	)
	app := fx.New(
		fxLogger(log),
		fx.Supply(log),
		modules.Daemon(f.cfg),
		fx.Populate(&conn, &nc),
		fx.StopTimeout(f.cfg.Grace+5*time.Second),
	)
	if err := app.Start(ctx); err != nil {
		return fmt.Errorf("starting: %w", err)
	}
	fmt.Fprintf(stdout, "node: %s\nquic: %s\nnats: %s\n", conn.NodeID(), conn.Addr(), nc.ClientURL)
	<-ctx.Done()
	log.Info("shutting down", "grace", f.cfg.Grace)
	stopCtx, cancel := context.WithTimeout(context.Background(), f.cfg.Grace+5*time.Second)
	defer cancel()
	return app.Stop(stopCtx)
}

// fxLogger sends fx's own events to log at debug level.
func fxLogger(log *slog.Logger) fx.Option {
	return fx.WithLogger(func() fxevent.Logger {
		l := &fxevent.SlogLogger{Logger: log.With("component", "fx")}
		l.UseLogLevel(slog.LevelDebug)
		return l
	})
}
