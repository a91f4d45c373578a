package main

import (
	"flag"
	"fmt"
	"io"
	"regexp"
)

// hiddenFlag reports whether --help leaves flag name out.
func hiddenFlag(name string) bool {
	return name == serveIdlePeersFlag || name == wanHelperFlag
}

// usage prints what --help says.
func usage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprint(w, `Usage: peerbridge-bench [--quick] [--json] [--wan]
   or: peerbridge bench [--quick] [--json] [--wan]

Sets up, on loopback, (a) one nats-server, (b) two nats-servers joined by a
leaf node and (c) two nats-servers each with a peerbridge, joined over QUIC,
and measures them side by side: request-reply latency, fire-and-forget
throughput, and for peerbridge pooled vs fresh-dial sends, fan-out to 20
peers, head of line (p99 of sends to a healthy peer while 20 sends to a
black-hole peer are pending, as a ratio to the same without them:
hol_p99_ratio) and memory per idle pooled peer. Prints a table with peerbridge's
figures as ratios to the leaf node and to plain NATS. Progress goes to
stderr. With --quick the loopback part takes about 20 s; a default run
takes about 80 s, the WAN scenario included.

Where it runs as root with /dev/net/tun, nft and ip, it also runs the WAN
scenario (--wan runs only that): two network namespaces joined by a wire
of 40 ms RTT, without loss and with 1% loss each way, a leaf-node link and
two peerbridges across it, 16 concurrent requesters; it prints a second
table (request-reply p50/p99 and rate, fire-and-forget rate, bridge/leaf
ratios) and adds the wan_* JSON keys (wan_rr_p99_ratio_loss1,
wan_ff_ratio_loss1, ...; wan_ran is 0 when it was skipped). Elsewhere it
says in one line why the WAN scenario was skipped. It takes about a
minute (--quick: about 30 s, so under a minute in all).

Every flag also works as 'peerbridge bench --flag'.
`)
	for _, g := range flagGroups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, n := range g.names {
			printFlag(w, fs.Lookup(n))
		}
		fmt.Fprintf(w, "  Example: %s\n", g.example)
	}
}

// flagGroup is a titled group of flags in the help, with an example.
type flagGroup struct {
	title, example string
	names          []string
}

// flagGroups are the groups of --help; every flag but the hidden ones is
// in one.
var flagGroups = []flagGroup{
	{"What to measure", "peerbridge bench --quick", []string{"quick", "wan"}},
	{"Output", "peerbridge bench --quick --json --cpuprofile cpu.prof", []string{"json", "cpuprofile", "memprofile"}},
}

// printFlag writes one flag in --flag style: "--name ARG" on a line, its
// usage indented below.
func printFlag(w io.Writer, f *flag.Flag) {
	arg, text := flag.UnquoteUsage(f)
	line := "  --" + f.Name
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); arg != "" && !(ok && b.IsBoolFlag()) {
		line += " " + arg
	}
	fmt.Fprintf(w, "%s\n      %s\n", line, text)
}

// flagErrors are the flag package's parse errors and, for each, how to
// say it with two dashes, as peerbridge does.
var flagErrors = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`^flag provided but not defined: -+(.*)$`), "unknown flag --$1"},
	{regexp.MustCompile(`^flag needs an argument: -+(.*)$`), "--$1 needs a value"},
	{regexp.MustCompile(`^invalid boolean value (".*") for -+([^:]+): .*$`), "--$2 $1: want true or false"},
}

// flagError rewrites a parse error of the flag package in --flag style.
func flagError(err error) string {
	msg := err.Error()
	for _, e := range flagErrors {
		if e.re.MatchString(msg) {
			return e.re.ReplaceAllString(msg, e.with)
		}
	}
	return msg
}
