package main

import (
	"bytes"
	"flag"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string // in stderr
	}{
		{"help", []string{"--help"}, 0, "--quick"},
		{"help lists wan", []string{"--help"}, 0, "--wan"},
		{"help names both commands", []string{"-h"}, 0, "peerbridge bench [--quick]"},
		{"unknown flag", []string{"--fast"}, 2, "peerbridge-bench: unknown flag --fast (see 'peerbridge-bench --help')"},
		{"no value", []string{"--cpuprofile"}, 2, "peerbridge-bench: --cpuprofile needs a value"},
		{"bad bool", []string{"--quick=maybe"}, 2, `peerbridge-bench: --quick "maybe": want true or false`},
		{"argument", []string{"now"}, 2, `unexpected argument "now"`},
		{"failure", []string{"--cpuprofile", "/nonexistent/cpu.prof"}, 1, "peerbridge-bench: open /nonexistent/cpu.prof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := mainCode(t.Context(), tt.args, &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Fatalf("exit %d (want %d), stderr:\n%s", code, tt.wantCode, stderr.String())
			}
		})
	}
}

// TestHelpHidesInternalFlags: the child processes' flags are not offered
// to users.
func TestHelpHidesInternalFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	mainCode(t.Context(), []string{"--help"}, &stdout, &stderr)
	for _, flag := range []string{serveIdlePeersFlag, wanHelperFlag} {
		if strings.Contains(stderr.String(), flag) {
			t.Fatalf("help lists --%s:\n%s", flag, stderr.String())
		}
	}
}

// TestHelpGroupsEveryFlag: --help puts every flag users may give in a
// group with an example whose flags exist, in --flag style.
func TestHelpGroupsEveryFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := mainCode(t.Context(), []string{"--help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	help := stderr.String()
	grouped := make(map[string]bool)
	for _, g := range flagGroups {
		if !strings.Contains(help, "\n"+g.title+":\n") || !strings.Contains(help, "  Example: "+g.example+"\n") {
			t.Errorf("help lacks the group %q or its example", g.title)
		}
		for _, n := range g.names {
			grouped[n] = true
		}
		for _, f := range strings.Fields(g.example) {
			if strings.HasPrefix(f, "--") && newFlagSet(new(options)).Lookup(f[2:]) == nil {
				t.Errorf("the example %q names --%s, which is no flag", g.example, f[2:])
			}
		}
	}
	newFlagSet(new(options)).VisitAll(func(f *flag.Flag) {
		if !grouped[f.Name] && !hiddenFlag(f.Name) {
			t.Errorf("--%s is in no group of the help", f.Name)
		}
	})
}
