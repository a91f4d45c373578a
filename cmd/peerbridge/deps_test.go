package main

import (
	"strings"
	"testing"
)

// TestDependencies guards what packages link, as tailscale's depaware
// does: the daemon links no test code and no benchmark histograms; the
// operations parts under modules do not need fx; the components need
// neither the modules, nor fx, nor Prometheus.
func TestDependencies(t *testing.T) {
	components := []string{"codec", "connector", "natpunch", "bridge"}
	operations := []string{"modules/admin", "modules/logging", "modules/metrics", "modules/status"}
	forbidden := map[string][]string{
		module + "/cmd/peerbridge": {"testing", module + "/test", "github.com/HdrHistogram"},
	}
	for _, p := range operations {
		forbidden[module+"/"+p] = []string{"go.uber.org/fx"}
	}
	for _, p := range components {
		forbidden[module+"/"+p+"/..."] = []string{module + "/modules", "go.uber.org/fx", "github.com/prometheus"}
	}
	for pkg, roots := range forbidden {
		t.Run(pkg, func(t *testing.T) {
			for _, dep := range strings.Fields(goRun(t, "list", "-deps", pkg)) {
				if under(dep, roots) {
					t.Errorf("%s links %s; it must link nothing under %s", pkg, dep, strings.Join(roots, ", "))
				}
			}
		})
	}
}

// under reports whether package path is one of roots or inside one.
func under(path string, roots []string) bool {
	for _, r := range roots {
		if path == r || strings.HasPrefix(path, r+"/") {
			return true
		}
	}
	return false
}
