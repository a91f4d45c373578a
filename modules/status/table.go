package status

import (
	"cmp"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteTable prints bridges for a person: each bridge's node ID, then a
// table of its peers.
func WriteTable(w io.Writer, bridges []Bridge) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, b := range bridges {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		gateways := 0
		for _, p := range b.Peers {
			if p.Gateway {
				gateways++
			}
		}
		counts := plural(len(b.Peers)-gateways, "peer")
		if gateways > 0 {
			counts += ", " + plural(gateways, "gateway")
		}
		fmt.Fprintf(tw, "bridge %s (version %s, %s)\n", b.Node, b.Version, counts)
		if b.Error != "" {
			fmt.Fprintf(tw, "  error: %s\n", b.Error)
			continue
		}
		if len(b.Peers) == 0 {
			continue
		}
		fmt.Fprintln(tw, "  NODE\tPATH\tENDPOINT\tRTT\tAGE\tIN\tOUT\tMEMBERSHIP")
		for _, p := range b.Peers {
			path := p.Path
			if p.Gateway {
				path += " (gateway)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Node, path, p.Endpoint,
				rtt(p.RTTMillis), age(p.AgeSeconds), size(p.BytesIn), size(p.BytesOut), cmp.Or(p.Membership, "-"))
		}
	}
	return tw.Flush()
}

// plural is "1 peer", "2 peers".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func rtt(ms float64) string { return fmt.Sprintf("%.1fms", ms) }

func age(s float64) string {
	return (time.Duration(s) * time.Second).String()
}

// size is n bytes in binary units: 512 B, 1.5 KiB, 3.0 MiB.
func size(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for v := n / unit; v >= unit && exp < 5; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
