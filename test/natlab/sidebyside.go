package natlab

// hopTable is the table of the oneHop rule, deleted by SetRouterHop.
const hopTable = "natlab_hop"

// SetRouterHop says whether the public segment behaves, for TTLs, like a
// router hop (the default; see oneHop): with false, a packet arriving with
// TTL 1 crosses the segment, so routers on it sit side by side on one LAN
// with no router between them, as two VMs on one subnet, each
// masquerading for its containers, do. Every router of the lab is then
// within reach of a packet sent with TTL 2 from behind any other.
func (l *Lab) SetRouterHop(on bool) error {
	script := "table bridge " + hopTable + "\ndelete table bridge " + hopTable + "\n"
	if on {
		script += oneHop
	}
	return nft(l.internet, script)
}
