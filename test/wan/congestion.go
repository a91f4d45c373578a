package wan

import (
	"os"
	"slices"
	"strings"
)

// allowedCC lists the TCP congestion controls a namespace other than the
// machine's first may choose.
const allowedCC = "/proc/sys/net/ipv4/tcp_allowed_congestion_control"

// LossBasedCongestion is the TCP congestion control most hosts run, for
// Options.TCPCongestion: Cubic, Linux's default, or else Reno where the
// machine does not let a namespace pick Cubic; "" (the namespaces inherit
// the machine's, BBR on some) when neither may be picked.
func LossBasedCongestion() string {
	b, err := os.ReadFile(allowedCC)
	if err != nil {
		return ""
	}
	allowed := strings.Fields(string(b))
	for _, cc := range []string{"cubic", "reno"} {
		if slices.Contains(allowed, cc) {
			return cc
		}
	}
	return ""
}
