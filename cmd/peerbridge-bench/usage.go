package main

import (
	"flag"
	"fmt"
	"io"
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

Flags:
`)
	fs.VisitAll(func(f *flag.Flag) {
		if hiddenFlag(f.Name) {
			return
		}
		arg, text := flag.UnquoteUsage(f)
		if arg != "" {
			arg = " " + arg
		}
		fmt.Fprintf(w, "  --%s%s\n    \t%s\n", f.Name, arg, text)
	})
}
