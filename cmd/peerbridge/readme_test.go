package main

import (
	"flag"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readme is the repository's README, read from the module root.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readmeSection is the text of README's section under heading, up to the
// next heading of any level.
func readmeSection(t *testing.T, text, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(text, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README has no section %q", heading)
	}
	if i := strings.Index(rest, "\n#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// flagRow is a row of a README flag table: its first cell's flags, then
// its default in back quotes, if it gives one.
var flagRow = regexp.MustCompile("(?m)^\\| (`--[^|]*) \\| (?:`([^`|]*)`)?[^|]*\\|")

// readmeFlag finds a flag written in back quotes, alone or with its value.
var readmeFlag = regexp.MustCompile("`--([a-z0-9-]+)[` ]")

// TestReadmeNamesEveryFlag: every flag of 'peerbridge run' and 'peerbridge
// gateway' is in the README, and each default the README's tables of
// these commands give in back quotes is the flag's.
func TestReadmeNamesEveryFlag(t *testing.T) {
	text := readme(t)
	named := make(map[string]bool)
	for _, m := range readmeFlag.FindAllStringSubmatch(text, -1) {
		named[m[1]] = true
	}
	runFS, _ := newRunFlags(io.Discard)
	gatewayFS, _ := newGatewayFlags(io.Discard)
	for _, c := range []struct {
		heading string
		fs      *flag.FlagSet
	}{
		{"### `peerbridge run`", runFS},
		{"### `peerbridge gateway`", gatewayFS},
	} {
		c.fs.VisitAll(func(f *flag.Flag) {
			if !named[f.Name] {
				t.Errorf("README does not name %s's --%s", c.fs.Name(), f.Name)
			}
		})
		for _, row := range flagRow.FindAllStringSubmatch(readmeSection(t, text, c.heading), -1) {
			for _, m := range readmeFlag.FindAllStringSubmatch(row[1]+" ", -1) {
				f := c.fs.Lookup(m[1])
				switch {
				case f == nil:
					t.Errorf("README's %s table has --%s, which %s lacks", c.heading, m[1], c.fs.Name())
				case row[2] != "" && f.DefValue != "" && !sameDefault(f.DefValue, row[2]):
					t.Errorf("README's %s table gives --%s the default %q, the flag has %q", c.heading, m[1], row[2], f.DefValue)
				}
			}
		}
	}
}

// sameDefault reports whether a flag's default and the README's are the
// same value: equal but for case, or the same duration (2m and 2m0s).
func sameDefault(flagDef, readmeDef string) bool {
	if strings.EqualFold(flagDef, readmeDef) {
		return true
	}
	a, errA := time.ParseDuration(flagDef)
	b, errB := time.ParseDuration(readmeDef)
	return errA == nil && errB == nil && a == b
}
