package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
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

// TestRunHelpGroupsEveryFlag: 'run --help' puts every flag in a group,
// each with an example.
func TestRunHelpGroupsEveryFlag(t *testing.T) {
	var help bytes.Buffer
	if code := mainCode(context.Background(), []string{"run", "--help"}, &help, &help); code != 0 {
		t.Fatalf("exit %d", code)
	}
	out := help.String()
	if strings.Contains(out, "Other flags:") {
		t.Errorf("run --help has flags in no group:\n%s", out[strings.Index(out, "Other flags:"):])
	}
	for _, g := range runFlagGroups() {
		if !strings.Contains(out, "\n"+g.title+":\n") || !strings.Contains(out, "Example: "+g.example) {
			t.Errorf("run --help lacks the group %q or its example", g.title)
		}
	}
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
