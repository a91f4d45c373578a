package main

import (
	"flag"
	"fmt"
	"io"
)

// gatewayHelp is the text of 'peerbridge gateway --help' before its flags.
const gatewayHelp = `Usage: peerbridge gateway [flags]

Runs the rendezvous and relay gateway that bridges started with --gateway
use for NAT traversal: it registers them, tells them their public address
and NAT type, times their hole punches and relays what cannot be punched.
Run it on a host with a public address; a second --listen on another IP
lets it tell NAT types apart.

Every flag can also be set by the environment variable PEERBRIDGE_<FLAG>
(PEERBRIDGE_LISTEN_TCP for --listen-tcp) or by a key of the --config file;
a flag beats the environment, which beats the file.`

// gatewayFlagGroups are the groups of 'peerbridge gateway --help'.
func gatewayFlagGroups() []flagGroup {
	return []flagGroup{
		{"Listening", "peerbridge gateway --key /var/lib/peerbridge-gateway/gateway.key --listen 0.0.0.0:9444 --listen 198.51.100.2:9445",
			[]string{"key", "listen", "listen-tcp", "advertise", "registration-ttl"}},
		{"Fleet of gateways (NATS)", "peerbridge gateway --listen 203.0.113.1:9444 --nats-url nats://nats.example:4222 --nats-creds fleet.creds",
			[]string{"nats-url", "nats-creds", "nats-ca", "nats-cert", "nats-key", "fleet-prefix"}},
		{"Who may connect", "peerbridge gateway --allow NODEID --allow NODEID2 --trust ACCOUNT",
			[]string{"allow", "trust", "creds"}},
		{"Relay limits", "peerbridge gateway --relay-max-rate 4194304 --relay-max-sessions 4096 --tcp-max-conns 1024",
			[]string{"relay-max-rate", "relay-max-bytes", "relay-max-duration", "relay-client-rate", "relay-client-burst", "relay-receive-rate", "relay-receive-burst",
				"relay-packet-rate", "relay-packet-burst", "relay-sessions-per-client", "relay-max-sessions", "tcp-max-conns", "tcp-max-conns-per-ip"}},
		{"Request rates (per second, and burst above it)", "peerbridge gateway --lookup-rate 50 --lookup-burst 200 --request-rate 10000",
			[]string{"register-rate", "register-burst", "lookup-rate", "lookup-burst", "punch-rate", "punch-burst", "relay-ask-rate", "relay-ask-burst",
				"notify-rate", "notify-burst", "pair-notify-rate", "pair-notify-burst", "request-rate", "request-burst"}},
		{"Limits", "peerbridge gateway --max-registrations 10000 --max-conns 4000 --max-conns-per-ip 64",
			[]string{"max-registrations", "max-registrations-per-ip", "max-local-addrs", "max-record-bytes", "max-conns", "max-conns-per-ip", "max-conns-per-peer",
				"max-streams", "max-inbound-requests", "max-inbound-requests-per-peer", "max-inbound-request-bytes", "frame-budget", "frame-budget-per-conn", "frame-timeout"}},
		{"Operations", "peerbridge gateway --http 127.0.0.1:9091 --log-format json --config /etc/peerbridge/gateway.yaml",
			[]string{"http", "http-max-conns", "log-level", "log-format", "config"}},
	}
}

// printGatewayHelp writes 'peerbridge gateway --help'.
func printGatewayHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, gatewayHelp)
	printFlags(w, fs, gatewayFlagGroups()...)
}
