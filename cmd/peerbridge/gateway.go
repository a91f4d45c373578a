package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/modules"
	"github.com/peerbridge/peerbridge/natpunch"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (f *listFlag) String() string     { return strings.Join(*f, ",") }
func (f *listFlag) Set(s string) error { *f = append(*f, s); return nil }

func runGateway(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("peerbridge gateway", flag.ContinueOnError)
	var (
		cfg      modules.GatewayConfig
		listen   listFlag
		logLevel slog.Level
	)
	fs.StringVar(&cfg.KeyFile, "key", "gateway.key", "identity key file (created with mode 0600 if missing)")
	fs.Var(&listen, "listen", "UDP `ADDR` to serve on (repeatable; a second address on another IP and port lets NAT probes tell filtering and mapping apart)")
	fs.DurationVar(&cfg.Gateway.RegistrationTTL, "registration-ttl", 90*time.Second, "how long a bridge's registration lasts without a refresh")
	fs.Int64Var(&cfg.Gateway.Relay.MaxBytes, "relay-max-bytes", 0, "most bytes relayed per session (0: unlimited)")
	fs.Int64Var(&cfg.Gateway.Relay.MaxRate, "relay-max-rate", 0, "most bytes per second relayed per session (0: unlimited)")
	fs.DurationVar(&cfg.Gateway.Relay.MaxDuration, "relay-max-duration", 0, "longest relay session (0: unlimited)")
	cfg.Limits = gatewayLimits()
	limitFlags(fs, &cfg.Limits)
	fs.TextVar(&logLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: peerbridge gateway --key FILE --listen ADDR [--listen ADDR2 ...]\n\nRuns the rendezvous and relay gateway bridges use for NAT traversal.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if len(listen) == 0 {
		listen = listFlag{"0.0.0.0:9444"}
	}
	cfg.Gateway.Listen = listen
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel}))
	var g *natpunch.Gateway
	app := fx.New(fxLogger(log), fx.Supply(log), modules.GatewayModule(cfg), fx.Populate(&g))
	if err := app.Start(ctx); err != nil {
		return fmt.Errorf("starting: %w", err)
	}
	fmt.Fprintf(stdout, "node: %s\n", g.NodeID())
	for _, a := range g.Addrs() {
		fmt.Fprintf(stdout, "gateway: %s@%s\n", g.NodeID(), a)
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return app.Stop(stopCtx)
}
