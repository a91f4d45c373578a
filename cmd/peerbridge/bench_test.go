package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const benchGoInstall = "go install github.com/peerbridge/peerbridge/cmd/peerbridge-bench@latest"

func TestBenchListed(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := mainCode(t.Context(), []string{"--help"}, &stdout, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "bench") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

// TestBenchWithoutHelper: without peerbridge-bench, --help still lists
// the flags and says how to get it; anything else exits 2 saying the same.
func TestBenchWithoutHelper(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  []string // in stderr
	}{
		{"help", []string{"--help"}, 0, []string{"\nWhat to measure:\n  --quick\n", "\nOutput:\n  --json\n", "--wan", benchGoInstall, "go build -o peerbridge-bench"}},
		{"run", []string{"--quick"}, 2, []string{"peerbridge-bench, and it was not found", benchGoInstall, "go build -o peerbridge-bench ./cmd/peerbridge-bench"}},
		{"help after --", []string{"--", "--help"}, 2, []string{benchGoInstall}},
	}
	missing := func(string) (string, error) { return "", exec.ErrNotFound }
	l := benchLauncher{executable: func() (string, error) { return "/nowhere/peerbridge", nil }, lookPath: missing}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := exitCode(l.run(t.Context(), tt.args, &stdout, &stderr))
			if code != tt.wantCode || !containsAll(stderr.String(), tt.wantErr) {
				t.Fatalf("exit %d (want %d), stderr:\n%s", code, tt.wantCode, stderr.String())
			}
		})
	}
}

// TestBenchRunsHelper builds peerbridge-bench and runs it through
// 'peerbridge bench', found beside this executable or in PATH: arguments,
// standard streams and exit codes pass through.
func TestBenchRunsHelper(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: it builds peerbridge-bench")
	}
	dir := t.TempDir()
	goRun(t, "build", "-o", filepath.Join(dir, benchCommand), module+"/cmd/"+benchCommand)
	beside := benchLauncher{executable: func() (string, error) { return filepath.Join(dir, "peerbridge"), nil }, lookPath: exec.LookPath}
	t.Setenv("PATH", dir)
	inPath := benchLauncher{executable: func() (string, error) { return "/nowhere/peerbridge", nil }, lookPath: exec.LookPath}
	tests := []struct {
		name       string
		l          benchLauncher
		args       []string
		wantCode   int
		wantStdout string
		wantErr    string // in stderr
	}{
		{"help", beside, []string{"--help"}, 0, "", "Usage: peerbridge-bench"},
		{"help grouped", beside, []string{"--help"}, 0, "", "\nOutput:\n  --json\n"},
		{"help from PATH", inPath, []string{"--help"}, 0, "", "Usage: peerbridge-bench"},
		{"unknown flag", beside, []string{"--fast"}, 2, "", "peerbridge-bench: unknown flag --fast"},
		{"failure", beside, []string{"--cpuprofile", "/nonexistent/cpu.prof"}, 1, "", "peerbridge-bench: open /nonexistent/cpu.prof"},
		{"stdin and stdout", beside, []string{"--serve-idle-peers", "1"}, 0, "\nready\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			tt.l.stdin = strings.NewReader("") // the idle peers serve until it ends
			code := exitCode(tt.l.run(t.Context(), tt.args, &stdout, &stderr))
			if code != tt.wantCode || !strings.HasSuffix(stdout.String(), tt.wantStdout) || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Fatalf("exit %d (want %d), stdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout.String(), stderr.String())
			}
		})
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
