package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is the release version, stamped by a release build:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/peerbridge
//
// Empty, the module version of the build is used: "v1.2.3" for 'go install
// ...@v1.2.3', a pseudo-version or "(devel)" for a build in a checkout.
// 'peerbridge version', the micro service and 'peerbridge status' all show
// the same one.
var version string

// buildVersion returns the version of this binary (see version) and its
// VCS revision, if known.
func buildVersion() (v, revision string) {
	info, ok := debug.ReadBuildInfo()
	if ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	switch {
	case version != "":
		return version, revision
	case !ok:
		return "(unknown)", revision
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
	fs := flag.NewFlagSet("peerbridge version", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: peerbridge version\n\nPrints the version, the VCS revision, the Go version and the platform.\nThe bridge's micro service and 'peerbridge status' announce the same version.")
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	fmt.Fprintln(stdout, versionLine())
	return nil
}
