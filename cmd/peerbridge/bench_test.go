package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestBenchCommandLine(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string // in stderr
	}{
		{"help", []string{"bench", "--help"}, 0, "--quick"},
		{"help lists wan", []string{"bench", "--help"}, 0, "--wan"},
		{"unknown flag", []string{"bench", "--fast"}, 2, "flag provided but not defined"},
		{"argument", []string{"bench", "now"}, 2, `unexpected argument "now"`},
		{"listed", []string{"--help"}, 0, "bench"},
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

// TestBenchHelpHidesInternalFlag: the idle peers' child-process flag is
// not offered to users.
func TestBenchHelpHidesInternalFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	mainCode(t.Context(), []string{"bench", "--help"}, &stdout, &stderr)
	for _, flag := range []string{serveIdlePeersFlag, wanHelperFlag} {
		if strings.Contains(stderr.String(), flag) {
			t.Fatalf("help lists --%s:\n%s", flag, stderr.String())
		}
	}
}
