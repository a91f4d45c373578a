package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// buildVersion returns the module version of this binary ("v1.2.3", or
// "(devel)" for a build from a work tree) and its VCS revision, if known.
func buildVersion() (version, revision string) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)", ""
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return info.Main.Version, revision
}

// versionLine is what 'peerbridge version' prints.
func versionLine() string {
	v, rev := buildVersion()
	if rev != "" {
		v += " (" + rev[:min(len(rev), 12)] + ")"
	}
	return fmt.Sprintf("peerbridge %s %s %s/%s", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return &usageError{fmt.Errorf("unexpected argument %q", args[0])}
	}
	fmt.Fprintln(stdout, versionLine())
	return nil
}
