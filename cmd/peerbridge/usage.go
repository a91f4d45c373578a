package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
)

// flagGroup is a titled group of flags in a command's help, with an
// example command line.
type flagGroup struct {
	title, example string
	names          []string
}

// printFlags writes the flags of fs in --flag style: each group's under
// its title with its example, then the others under "Flags:" (or "Other
// flags:" after groups).
func printFlags(w io.Writer, fs *flag.FlagSet, groups ...flagGroup) {
	grouped := make(map[string]bool)
	for _, g := range groups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, name := range g.names {
			if f := fs.Lookup(name); f != nil {
				printFlag(w, f)
				grouped[name] = true
			}
		}
		if g.example != "" {
			fmt.Fprintf(w, "  Example: %s\n", g.example)
		}
	}
	var rest []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if !grouped[f.Name] {
			rest = append(rest, f)
		}
	})
	if len(rest) == 0 {
		return
	}
	title := "Flags"
	if len(groups) > 0 {
		title = "Other flags"
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	for _, f := range rest {
		printFlag(w, f)
	}
}

// printFlag writes one flag: "--name ARG" on a line, its usage and default
// indented below.
func printFlag(w io.Writer, f *flag.Flag) {
	arg, usage := flag.UnquoteUsage(&flag.Flag{Name: f.Name, Usage: f.Usage, Value: unhinted(f.Value)})
	line := "  --" + f.Name
	if arg != "" && !isBool(f.Value) {
		line += " " + argName(arg)
	}
	if def := defaultText(f); !slices.Contains([]string{"", "0", "0s", "false", "[]"}, def) {
		usage += " (default " + def + ")"
	}
	fmt.Fprintf(w, "%s\n      %s\n", line, usage)
}

// defaultText is how the help writes f's default: as the flag takes it,
// so a log level in lower case ("info", not slog's "INFO").
func defaultText(f *flag.Flag) string {
	if g, ok := unhinted(f.Value).(flag.Getter); ok {
		if _, ok := g.Get().(*slog.Level); ok {
			return strings.ToLower(f.DefValue)
		}
	}
	return f.DefValue
}

// argName is the placeholder of a flag's value: the name its usage
// gives in back quotes, else its type in capitals (DURATION, INT).
func argName(arg string) string {
	if arg == "value" {
		return "VALUE"
	}
	return strings.ToUpper(arg)
}

func isBool(v flag.Value) bool {
	b, ok := v.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// hintValue is a flag value whose parse errors say the expected format.
type hintValue struct {
	flag.Value
	hint string
}

func (v *hintValue) Set(s string) error {
	if err := v.Value.Set(s); err != nil {
		return fmt.Errorf("want %s", v.hint)
	}
	return nil
}

// unhinted is v without a hint, for flag.UnquoteUsage to name its type.
func unhinted(v flag.Value) flag.Value {
	switch h := v.(type) {
	case *hintValue:
		return h.Value
	case *hintBoolValue:
		return h.Value
	}
	return v
}

// hintBoolValue is a hintValue of a flag that takes no argument.
type hintBoolValue struct{ hintValue }

func (v *hintBoolValue) IsBoolFlag() bool { return true }

// formatHint is the format a standard flag value takes, "" for other
// values (theirs say it themselves).
func formatHint(v flag.Value) string {
	g, ok := v.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case time.Duration:
		return "a duration such as 10s, 500ms or 1m30s"
	case int, int64:
		return "a whole number such as 100"
	case uint, uint64:
		return "a whole number, 0 or more, such as 100"
	case float64:
		return "a number such as 2.5"
	case bool:
		return "true or false"
	case *slog.Level:
		return "debug, info, warn or error"
	}
	return ""
}

// addHints makes the parse errors of fs's standard flag values say the
// format they expect; calling it again changes nothing.
func addHints(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		h := formatHint(f.Value)
		switch {
		case h == "":
		case isBool(f.Value):
			f.Value = &hintBoolValue{hintValue{f.Value, h}}
		default:
			f.Value = &hintValue{f.Value, h}
		}
	})
}

// flagErrors are the flag package's parse errors and, for each, how
// peerbridge says it: flags with two dashes, the value's problem last.
var flagErrors = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`^flag provided but not defined: -+(.*)$`), "unknown flag --$1"},
	{regexp.MustCompile(`^flag needs an argument: -+(.*)$`), "--$1 needs a value"},
	{regexp.MustCompile(`^invalid (?:boolean )?value (".*") for (?:flag )?-+([^:]+): `), "--$2 $1: "},
}

// flagError rewrites a parse error of the flag package in --flag style.
func flagError(err error) error {
	msg := err.Error()
	for _, e := range flagErrors {
		if e.re.MatchString(msg) {
			return fmt.Errorf("%s", e.re.ReplaceAllString(msg, e.with))
		}
	}
	return err
}
