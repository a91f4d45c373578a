package main

import (
	"bytes"
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
		{"unknown flag", []string{"--fast"}, 2, "peerbridge-bench: flag provided but not defined: -fast"},
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
