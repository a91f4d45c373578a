package main

import (
	"flag"
	"fmt"
	"io"
)

// runHelp is the text of 'peerbridge run --help' before its flags.
const runHelp = `Usage: peerbridge run [flags]

Runs a bridge: NATS subjects peer.send.<type> and peer.request.<type> go to
peers over QUIC; messages from peers arrive on peer.recv.<type>.

Every flag can also be set by the environment variable PEERBRIDGE_<FLAG>
(PEERBRIDGE_NATS_LISTEN for --nats-listen) or by a key of the --config file;
a flag beats the environment, which beats the file.`

// runFlagGroups are the groups of 'peerbridge run --help'.
func runFlagGroups() []flagGroup {
	return []flagGroup{
		{"NATS", "peerbridge run --nats-url nats://127.0.0.1:4222 --serve svc.echo=svc.echo",
			[]string{"nats-url", "nats-listen", "nats-creds", "nats-ca", "nats-cert", "nats-key", "prefix", "queue", "serve"}},
		{"Peers", "peerbridge run --key /var/lib/peerbridge/peerbridge.key --peer NODEID@203.0.113.7:9443 --timeout 4s",
			[]string{"listen", "key", "peer", "timeout", "reply-timeout", "idle-timeout", "max-payload", "max-targets"}},
		{"NAT traversal", "peerbridge run --gateway NODEID@gateway.example.com:9443",
			[]string{"gateway", "tcp-relay", "port-mapping", "punch-packets", "punches-per-minute", "max-punches", "relay-idle-timeout", "relay-sessions-per-peer", "max-relay-sessions"}},
		{"Who may connect", "peerbridge run --allow NODEID --allow NODEID2:orders,audit --trust ACCOUNT",
			[]string{"allow", "trust", "creds"}},
		{"Limits", "peerbridge run --max-conns 500 --max-inbound-requests 256 --max-queue 2048",
			[]string{"max-conns", "max-conns-per-ip", "max-conns-per-peer", "max-streams", "max-inbound-requests", "max-inbound-requests-per-peer",
				"max-inbound-request-bytes", "frame-budget", "frame-budget-per-conn", "frame-timeout", "max-queue", "max-queues", "max-queued-bytes", "max-queued-bytes-per-peer"}},
		{"Operations", "peerbridge run --http 127.0.0.1:9090 --log-format json --grace 20s --config /etc/peerbridge.yaml",
			[]string{"http", "http-max-conns", "grace", "log-level", "log-format", "config"}},
	}
}

// printRunHelp writes 'peerbridge run --help'.
func printRunHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, runHelp)
	printFlags(w, fs, runFlagGroups()...)
}
