package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// singleDash finds a flag written with one dash in a line of help.
var singleDash = regexp.MustCompile(`(^|\s)-[a-z]`)

// singleDashFlag is the first line of help that writes a flag with one
// dash, but for lines that run the go command.
func singleDashFlag(help string) string {
	for _, line := range strings.Split(help, "\n") {
		if singleDash.MatchString(line) && !strings.HasPrefix(strings.TrimSpace(line), "go ") {
			return line
		}
	}
	return ""
}

// TestHelpExitsZero: every command's --help and -h print its usage in
// --flag style and exit 0.
func TestHelpExitsZero(t *testing.T) {
	for _, c := range commands() {
		for _, h := range []string{"--help", "-h"} {
			var stdout, stderr bytes.Buffer
			code := mainCode(context.Background(), []string{c.name, h}, &stdout, &stderr)
			if code != 0 || !strings.Contains(stderr.String(), "Usage: peerbridge "+c.name) || singleDashFlag(stderr.String()) != "" {
				t.Errorf("peerbridge %s %s: exit %d, help:\n%s", c.name, h, code, &stderr)
			}
		}
	}
}

// TestHelpCommand: 'peerbridge help CMD' is 'peerbridge CMD --help'.
func TestHelpCommand(t *testing.T) {
	for _, c := range commands() {
		var stdout, stderr bytes.Buffer
		code := mainCode(context.Background(), []string{"help", c.name}, &stdout, &stderr)
		if code != 0 || !strings.Contains(stderr.String(), "Usage: peerbridge "+c.name) {
			t.Errorf("peerbridge help %s: exit %d, help:\n%s", c.name, code, &stderr)
		}
	}
}

// helpGroups are the commands whose --help groups their flags.
var helpGroups = []struct {
	command string
	groups  func() []flagGroup
}{
	{"run", runFlagGroups},
	{"gateway", gatewayFlagGroups},
	{"probe", probeFlagGroups},
	{"status", statusFlagGroups},
	{"id", idFlagGroups},
}

// exampleFlag finds the flags an example names.
var exampleFlag = regexp.MustCompile(`\s--([a-z0-9-]+)`)

// TestHelpGroupsEveryFlag: each command's --help puts every flag in a
// group, each group with its heading and an example of that command whose
// flags all exist.
func TestHelpGroupsEveryFlag(t *testing.T) {
	for _, c := range helpGroups {
		var help bytes.Buffer
		if code := mainCode(context.Background(), []string{c.command, "--help"}, &help, &help); code != 0 {
			t.Fatalf("%s --help: exit %d", c.command, code)
		}
		out := help.String()
		if i := strings.Index(out, "Other flags:"); i >= 0 {
			t.Errorf("%s --help has flags in no group:\n%s", c.command, out[i:])
		}
		for _, g := range c.groups() {
			if !strings.Contains(out, "\n"+g.title+":\n") || !strings.Contains(out, "Example: "+g.example) || !strings.HasPrefix(g.example, "peerbridge "+c.command+" ") {
				t.Errorf("%s --help lacks the group %q or its example %q", c.command, g.title, g.example)
			}
			for _, m := range exampleFlag.FindAllStringSubmatch(g.example, -1) {
				if !strings.Contains(out, "\n  --"+m[1]+" ") && !strings.Contains(out, "\n  --"+m[1]+"\n") {
					t.Errorf("%s --help: the example %q names --%s, which is no flag", c.command, g.example, m[1])
				}
			}
		}
	}
}

// TestHelpExamplesParse: the examples of 'run --help' and 'gateway
// --help', with real node IDs and an account for the placeholders, are
// accepted by the command's flags and checks.
func TestHelpExamplesParse(t *testing.T) {
	r := strings.NewReplacer("NODEID2", newNodeID(t), "NODEID", newNodeID(t), "ACCOUNT", newAccount(t))
	for _, tt := range []struct {
		command string
		groups  []flagGroup
		parse   func(args []string) error
	}{
		{"run", runFlagGroups(), func(args []string) error {
			fs, f := newRunFlags(io.Discard)
			return errors.Join(parseFlags(fs, args, io.Discard), f.check())
		}},
		{"gateway", gatewayFlagGroups(), func(args []string) error {
			fs, f := newGatewayFlags(io.Discard)
			return errors.Join(parseFlags(fs, args, io.Discard), f.check())
		}},
	} {
		for _, g := range tt.groups {
			args := strings.Fields(r.Replace(g.example))[2:]
			if err := tt.parse(args); err != nil {
				t.Errorf("%s --help, group %q: example %q: %v", tt.command, g.title, g.example, err)
			}
		}
	}
}

// newNodeID is the node ID of a fresh key.
func newNodeID(t *testing.T) string {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return id.NodeID().String()
}

// newAccount is the public key of a fresh NATS account.
func newAccount(t *testing.T) string {
	t.Helper()
	kp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// TestParseErrorsSayTheFormat: a bad value exits 2 with one line naming
// the flag with two dashes and the format it wants.
func TestParseErrorsSayTheFormat(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--timeout", "10"}, `--timeout "10": want a duration such as 10s, 500ms`},
		{[]string{"run", "--max-conns", "many"}, `--max-conns "many": want a whole number`},
		{[]string{"run", "--no-such-flag"}, "unknown flag --no-such-flag (see 'peerbridge run --help')"},
		{[]string{"run", "--listen"}, "--listen needs a value"},
		{[]string{"status", "--json=maybe"}, `--json "maybe": want true or false`},
		{[]string{"gateway", "--relay-client-rate", "fast"}, `--relay-client-rate "fast": want a number`},
		{[]string{"gateway", "--registration-ttl", "90"}, `--registration-ttl "90": want a duration such as 10s, 500ms`},
		{[]string{"gateway", "--max-registrations", "lots"}, `--max-registrations "lots": want a whole number`},
		{[]string{"gateway", "--listen", "9444"}, `--listen "9444"`},
		{[]string{"gateway", "--no-such-flag"}, "unknown flag --no-such-flag (see 'peerbridge gateway --help')"},
		{[]string{"gateway", "extra"}, `unexpected argument "extra" (see 'peerbridge gateway --help')`},
		{[]string{"probe", "--timeout", "5"}, `--timeout "5": want a duration such as 10s, 500ms`},
		{[]string{"probe", "--gateway", "example.com:9444"}, `--gateway "example.com:9444"`},
		{[]string{"probe"}, "--gateway NODEID@host:port is required"},
		{[]string{"status", "--wait", "2"}, `--wait "2": want a duration such as 10s, 500ms`},
		{[]string{"id", "--nkey=perhaps"}, `--nkey "perhaps": want true or false`},
		{[]string{"gateway", "--log-level", "loud"}, `--log-level "loud": want debug, info, warn or error`},
		{[]string{"gateway", "--advertise", "gw.example.com:9444"}, `--advertise "gw.example.com:9444": want ip:port, e.g. 203.0.113.1:9444`},
		{[]string{"run", "--peer", "example.com:9443"}, `--peer "example.com:9443": want NODEID@host:port`},
		{[]string{"version", "extra"}, `unexpected argument "extra"`},
	} {
		var stdout, stderr bytes.Buffer
		code := mainCode(context.Background(), tt.args, &stdout, &stderr)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
			t.Errorf("peerbridge %s: exit %d, stderr %q; want exit 2 and one line with %q", strings.Join(tt.args, " "), code, &stderr, tt.want)
		}
	}
}

// TestRefusedConfigExitsTwo: a value the gateway's own checks refuse at
// start is a mistake on the command line too: one line, exit 2.
func TestRefusedConfigExitsTwo(t *testing.T) {
	key := filepath.Join(t.TempDir(), "gw.key")
	var stdout, stderr bytes.Buffer
	code := mainCode(t.Context(), []string{"gateway", "--key", key, "--listen", "127.0.0.1:0", "--listen-tcp", "off", "--registration-ttl", "1s"}, &stdout, &stderr)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if code != 2 || !strings.Contains(lines[len(lines)-1], "peerbridge gateway: gateway: invalid config: registration TTL (1s)") {
		t.Errorf("exit %d, stderr %q; want exit 2 and the refusal", code, &stderr)
	}
}

// TestHelpDefaultsAsTyped: help shows defaults as one would type them: a
// log level in lower case, no zero duration.
func TestHelpDefaultsAsTyped(t *testing.T) {
	for _, command := range []string{"run", "gateway"} {
		var help bytes.Buffer
		mainCode(context.Background(), []string{command, "--help"}, &help, &help)
		if out := help.String(); !strings.Contains(out, "warn, error (default info)\n") || strings.Contains(out, "(default 0s)") {
			t.Errorf("%s --help writes a default as it is not typed:\n%s", command, out)
		}
	}
}
