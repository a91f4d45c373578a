// Package deploy_test checks the files peerbridge is deployed with: the
// systemd units and the container image of cmd/peerbridge/deploy.
package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// deployDir is cmd/peerbridge/deploy.
func deployDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "cmd", "peerbridge", "deploy")
}

// TestSystemdUnits: each unit keeps its key in a state directory, runs
// hardened without privileges, restarts on failure, and passes
// systemd-analyze verify where that exists.
func TestSystemdUnits(t *testing.T) {
	for _, tt := range []struct{ unit, exec, state string }{
		{"peerbridge.service", "/usr/local/bin/peerbridge run", "peerbridge"},
		{"peerbridge-gateway.service", "/usr/local/bin/peerbridge gateway", "peerbridge-gateway"},
	} {
		t.Run(tt.unit, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(deployDir(t), tt.unit))
			if err != nil {
				t.Fatal(err)
			}
			unit := string(data)
			for _, want := range []string{"ExecStart=" + tt.exec, "StateDirectory=" + tt.state + "\n", "StateDirectoryMode=0700", "DynamicUser=yes",
				"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "CapabilityBoundingSet=\n", "Restart=on-failure", "RestartPreventExitStatus=2"} {
				if !strings.Contains(unit, "\n"+want) {
					t.Errorf("%s lacks %q", tt.unit, want)
				}
			}
			verify(t, tt.unit, unit)
		})
	}
}

// verify runs systemd-analyze verify on unit, its binary replaced by this
// test's own executable (verify wants one that exists); the test is
// skipped without systemd-analyze.
func verify(t *testing.T, name, unit string) {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("deploy: skipping systemd-analyze verify: systemd-analyze is not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/peerbridge", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", name, err, out)
	}
}
