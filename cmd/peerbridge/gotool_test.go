package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// module is this module's path.
const module = "github.com/peerbridge/peerbridge"

// goTool is the go command, from PATH or else from the GOROOT this test
// was built with; the test is skipped without one.
func goTool(t *testing.T) string {
	t.Helper()
	if path, err := exec.LookPath("go"); err == nil {
		return path
	}
	path := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("skipping: no go command, neither in PATH nor in GOROOT (%v)", err)
	}
	return path
}

// goRun runs the go command with args and returns its standard output.
func goRun(t *testing.T, args ...string) string {
	t.Helper()
	var stderr strings.Builder
	cmd := exec.CommandContext(t.Context(), goTool(t), args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
