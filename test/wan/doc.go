// Package wan runs peerbridge's WAN scenario (issue 14): a NATS leaf-node
// link and two peerbridge bridges side by side across one lossy, delayed
// wire, measured with the same load.
//
// Side B ([StartHub]) runs a hub nats-server that accepts leaf nodes, and a
// bridge composed as 'peerbridge run' composes it (modules.Daemon with its
// embedded nats-server). Behind each it serves an echo responder and a
// counter of fire-and-forget messages. Side A ([StartSpoke]) runs a leaf
// nats-server whose remote is B's hub, and a bridge with B as a static
// peer; [Spoke.Run] drives the load through both:
//
//   - request-reply: Options.Requesters concurrent requesters, each with
//     its own NATS connection, send sequential echo requests for
//     Options.RequestDuration; every request ends in a reply or an error.
//   - fire-and-forget: one publisher sends for Options.BlastDuration, never
//     more than Options.Window messages ahead of what B has counted (it
//     asks B's counter over the same system), then waits for stragglers.
//
// A Go program's sockets belong to the network namespace of the thread
// that made them, and nats-server and nats.go make theirs on goroutines of
// their own, so each side must be a process started inside its side's
// namespace. [RunLab] builds the lab ([natlab.Open]), starts both sides
// as helper processes ([RunSides], [StartProcess]) with a [CommandFunc]
// that re-executes the caller's own binary inside the side's namespace,
// where it calls [Play], and tears the lab down. The test in this package
// re-executes the test binary (TestWANHelper); 'peerbridge-bench --wan'
// re-executes peerbridge-bench (its hidden --wan-helper flag).
//
// Nothing here times an assertion: results are figures to report.
//
// # Running
//
// The test needs root, network namespaces and TAP devices (it skips
// without them). Under -race it runs short loads whose figures mean
// nothing; for figures:
//
//	go test -count=1 -run '^TestWAN$' -v ./test/wan/
//
// PEERBRIDGE_WAN_JSON=FILE writes the figures as JSON,
// PEERBRIDGE_WAN_DURATION=10s runs each load longer for steadier figures,
// and PEERBRIDGE_WAN_VARIANTS=1 adds the leaf with TCP BBR, the leaf with
// S2 compression, TestQUICConnections (quic-go alone, one connection
// against four) and TestWANRelay (the bridges through a gateway's relay
// against a direct path, and the gateway's CPU per relayed packet).
package wan
