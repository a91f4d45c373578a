package natlab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// cmdTimeout bounds every ip, nft and tc invocation.
	cmdTimeout = 15 * time.Second
	// firstHostOctet is the last octet of the first address handed out on
	// every segment, public or private.
	firstHostOctet = 10
	// maxOctet is the last usable last octet of a /24.
	maxOctet = 254
	// maxLANs is how many NAT LANs 198.19.0.0/16 can hold (198.19.1-254.0/24).
	maxLANs = 254
	// internetName is the label of the public segment's namespace.
	internetName = "internet"
	// publicBridge is the bridge in the internet namespace.
	publicBridge = "br0"
	// uplink is the name of every host's and router's interface.
	uplink = "eth0"
)

// validName is what a host or NAT name may look like: it becomes part of a
// namespace name.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,23}$`)

// Lab is one NAT lab: a public segment plus the routers and hosts attached to
// it. Create it with [New] in a test, or with [Open] anywhere. Its methods may
// be called from several goroutines, but the ones that take no error result
// (AddPublicHost, AddNAT, ...) fail the test with testing.TB.Fatalf and so
// belong on the test's own goroutine of a lab made by New; on a lab made by
// Open use their Create variants, which return errors.
type Lab struct {
	tb       testing.TB // nil for a lab made by Open
	id       string
	internet string // namespace holding the public bridge

	mu         sync.Mutex
	namespaces []string        // every namespace created, in creation order
	labels     map[string]bool // host and NAT names in use
	nextPublic int             // next last octet on 198.18.0.0/24
	nextLAN    int             // next N for 198.19.N.0/24
	nextPort   int             // next bridge port index in the internet ns
	wire       *Wire           // applied to every public link; nil: plain veth pairs
	links      []*wiredLink    // the forwarders of wired links, closed at teardown
	daemons    []io.Closer     // Mapped NATs' miniupnpd and STUN servers, closed at teardown
	ipv6       bool            // routes IPv6 too (see WithIPv6)
	v4only     map[string]bool // names of sites without IPv6 (see AddNAT4)
}

// Option changes how [New] builds a lab.
type Option func(*Lab)

// WithWire makes every link to the public segment (each router's uplink and
// each public host's) a wired link with w's delay, jitter and loss, instead
// of a plain veth pair.
func WithWire(w Wire) Option {
	return func(l *Lab) { l.wire = &w }
}

// New creates a lab with an empty public segment and registers its teardown
// with tb.Cleanup. It skips the test when the machine cannot host a lab (see
// [ErrUnsupported]): not root, ip or nft missing, network namespaces
// unavailable, or, with [WithWire], no TUN device. It is [Open] for tests.
func New(tb testing.TB, opts ...Option) *Lab {
	tb.Helper()
	if err := reapStale(); err != nil {
		tb.Logf("%v", err)
	}
	l, err := open(opts)
	if errors.Is(err, ErrUnsupported) {
		tb.Skipf("natlab: skipping: %v", err)
	}
	if err != nil {
		tb.Fatalf("%v", err)
	}
	l.tb = tb
	tb.Cleanup(func() {
		if err := l.Close(); err != nil {
			tb.Errorf("%v", err)
		}
	})
	return l
}

// ID returns the lab's random identifier. Every namespace of the lab is
// named ID()+"-"+name, so ID is also a prefix that finds them all.
func (l *Lab) ID() string { return l.id }

// AddPublicHost adds a host on the public segment with nAddrs addresses from
// 198.18.0.0/24. name must be unique in the lab and match [a-z0-9][a-z0-9-]*
// (at most 24 characters).
func (l *Lab) AddPublicHost(name string, nAddrs int) *Host {
	l.tb.Helper()
	h, err := l.addPublicHost(name, nAddrs)
	if err != nil {
		l.tb.Fatalf("%v", err)
	}
	return h
}

// AddNAT adds a NAT of the given kind. For every kind but [None] this creates
// a router namespace with one public address and a private LAN
// 198.19.N.0/24; for None it creates nothing and the NAT's hosts go on the
// public segment. name follows the rules of [Lab.AddPublicHost].
func (l *Lab) AddNAT(name string, kind Kind) *NAT {
	l.tb.Helper()
	n, err := l.createNAT(name, kind)
	if errors.Is(err, ErrUnsupported) {
		l.tb.Skipf("natlab: skipping: %v", err)
	}
	if err != nil {
		l.tb.Fatalf("%v", err)
	}
	return n
}

// oneHop makes the public segment behave, for TTLs, like the one router
// hop at least that lies between any two sites on the internet: a packet
// that arrives with TTL 1 dies there instead of reaching the far side. (A
// bridge forwards without touching the TTL, so without this rule a packet
// sent with a small TTL on purpose, to open the sender's own NAT and die
// before the peer's, would reach the peer's NAT.)
const oneHop = `table bridge natlab_hop {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ether type ip ip ttl < 2 drop
	}
}
`

func (l *Lab) setupInternet() error {
	ns := l.internet
	if err := prepareNamespace(ns); err != nil {
		return err
	}
	if err := ip("-n", ns, "link", "add", publicBridge, "type", "bridge", "forward_delay", "0"); err != nil {
		return err
	}
	if err := ip("-n", ns, "link", "set", publicBridge, "up"); err != nil {
		return err
	}
	if err := disableBridgeNetfilter(ns); err != nil {
		return err
	}
	if err := nft(ns, oneHop); err != nil {
		return err
	}
	return l.setupInternet6() // ipv6: nothing without it
}

func (l *Lab) addPublicHost(name string, nAddrs int) (*Host, error) {
	if nAddrs < 1 {
		return nil, fmt.Errorf("natlab: host %q: need at least one address, got %d", name, nAddrs)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.claimLabel(name); err != nil {
		return nil, err
	}
	addrs, err := l.allocPublic(nAddrs)
	if err != nil {
		return nil, err
	}
	ns, port, err := l.attachPublic(name, addrs)
	if err != nil {
		return nil, err
	}
	addrs6, err := l.public6Up(name, ns, addrs) // ipv6: nothing without it
	if err != nil {
		return nil, err
	}
	return &Host{ns: ns, addrs: addrs, addrs6: addrs6, wireNS: l.internet, wireDev: port}, nil
}

// attachPublic creates namespace name, plugs it into the public bridge and
// gives its uplink addrs. It returns the namespace and the name of its
// bridge port in the internet namespace. It must be called with l.mu held.
func (l *Lab) attachPublic(name string, addrs []netip.Addr) (ns, port string, err error) {
	if ns, err = l.addNamespace(name); err != nil {
		return "", "", err
	}
	l.nextPort++
	port = fmt.Sprintf("p%d", l.nextPort)
	if err := l.link(l.internet, port, ns, uplink); err != nil {
		return "", "", err
	}
	if err := ip("-n", l.internet, "link", "set", port, "master", publicBridge, "up"); err != nil {
		return "", "", err
	}
	if err := addrsUp(ns, uplink, addrs); err != nil {
		return "", "", err
	}
	return ns, port, nil
}

// claimLabel reserves a host or NAT name. It must be called with l.mu held.
func (l *Lab) claimLabel(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("natlab: invalid name %q: want [a-z0-9][a-z0-9-]*, at most 24 characters", name)
	}
	if l.labels[name] {
		return fmt.Errorf("natlab: name %q already used in this lab", name)
	}
	l.labels[name] = true
	return nil
}

// allocPublic hands out n addresses on 198.18.0.0/24. It must be called with
// l.mu held.
func (l *Lab) allocPublic(n int) ([]netip.Addr, error) {
	if l.nextPublic+n-1 > maxOctet {
		return nil, errors.New("natlab: public segment 198.18.0.0/24 is out of addresses")
	}
	addrs := make([]netip.Addr, n)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{198, 18, 0, byte(l.nextPublic)})
		l.nextPublic++
	}
	return addrs, nil
}

// addNamespace creates and prepares the namespace for label. It must be
// called with l.mu held.
func (l *Lab) addNamespace(label string) (string, error) {
	ns, err := l.createNamespace(label)
	if err != nil {
		return "", err
	}
	if err := prepareNamespace(ns); err != nil || !l.ipv6 {
		return ns, err
	}
	return ns, enableIPv6(ns)
}

// createNamespace creates the namespace for label and records it for
// teardown.
func (l *Lab) createNamespace(label string) (string, error) {
	ns := l.id + "-" + label
	if err := ip("netns", "add", ns); err != nil {
		return "", err
	}
	l.namespaces = append(l.namespaces, ns)
	return ns, nil
}

// prepareNamespace disables IPv6 inside ns, so the lab stays quiet (no DAD or
// router solicitations), and brings loopback up.
func prepareNamespace(ns string) error {
	err := writeSysctls(ns, []sysctl{
		{"net/ipv6/conf/all/disable_ipv6", "1"},
		{"net/ipv6/conf/default/disable_ipv6", "1"},
	}, true)
	if err != nil {
		return err
	}
	return ip("-n", ns, "link", "set", "lo", "up")
}

// veth creates a veth pair with end a in namespace nsA and end b in nsB.
// link joins device a in namespace nsA to device b in nsB: a wired link
// if the lab has a Wire, a veth pair otherwise. l.mu must be held.
func (l *Lab) link(nsA, a, nsB, b string) error {
	if l.wire == nil {
		return veth(nsA, a, nsB, b)
	}
	ta, err := openTap(nsA, a)
	if err != nil {
		return err
	}
	tb, err := openTap(nsB, b)
	if err != nil {
		ta.Close()
		return err
	}
	l.links = append(l.links, startWiredLink(ta, tb, *l.wire))
	return nil
}

// WireStats adds up what the lab's wired links did; all zero without a
// Wire.
func (l *Lab) WireStats() WireStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	var s WireStats
	for _, wl := range l.links {
		ws := wl.stats()
		s.Forwarded += ws.Forwarded
		s.Lost += ws.Lost
		s.Overflow += ws.Overflow
	}
	return s
}

func veth(nsA, a, nsB, b string) error {
	return ip("-n", nsA, "link", "add", a, "type", "veth", "peer", "name", b, "netns", nsB)
}

// addrsUp assigns addrs as /24s to dev in ns and brings dev up.
func addrsUp(ns, dev string, addrs []netip.Addr) error {
	for _, a := range addrs {
		if err := ip("-n", ns, "addr", "add", netip.PrefixFrom(a, 24).String(), "dev", dev); err != nil {
			return err
		}
	}
	return ip("-n", ns, "link", "set", dev, "up")
}

// disableBridgeNetfilter stops br_netfilter, where the kernel has it, from
// passing bridged frames through the namespace's IP hooks.
func disableBridgeNetfilter(ns string) error {
	return writeSysctls(ns, []sysctl{
		{"net/bridge/bridge-nf-call-iptables", "0"},
		{"net/bridge/bridge-nf-call-ip6tables", "0"},
		{"net/bridge/bridge-nf-call-arptables", "0"},
	}, true)
}

// teardown deletes every namespace of the lab, newest first, after stopping
// its daemons and closing the wired links' forwarders. Deleting a namespace also deletes the veths
// and bridges inside it. A second call finds nothing left to do.
func (l *Lab) teardown() error {
	l.mu.Lock()
	namespaces, links, daemons := l.namespaces, l.links, l.daemons
	l.namespaces, l.links, l.daemons = nil, nil, nil
	l.mu.Unlock()
	var errs []error
	for i := len(daemons) - 1; i >= 0; i-- {
		if err := daemons[i].Close(); err != nil {
			errs = append(errs, fmt.Errorf("natlab: teardown: %w", err))
		}
	}
	for _, wl := range links {
		if err := wl.close(); err != nil {
			errs = append(errs, fmt.Errorf("natlab: teardown: closing a wired link: %w", err))
		}
	}
	for i := len(namespaces) - 1; i >= 0; i-- {
		if err := ip("netns", "del", namespaces[i]); err != nil {
			errs = append(errs, fmt.Errorf("natlab: teardown: %w", err))
		}
	}
	return errors.Join(errs...)
}

// ip runs the ip program with args.
func ip(args ...string) error {
	return run(nil, "ip", args...)
}

// run runs a program with a bounded time, feeding it stdin when not nil, and
// returns an error carrying its output when it fails.
func run(stdin []byte, prog string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.WaitDelay = time.Second
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("natlab: %s %s: %w: %s", prog, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// unsupported says why this machine cannot host a lab, or "" if it can as far
// as can be told without creating a namespace. wired asks for TAP devices
// too.
func unsupported(wired bool) string {
	if os.Geteuid() != 0 {
		return "needs root"
	}
	for _, prog := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(prog); err != nil {
			return fmt.Sprintf("%s not on PATH (install iproute2 and nftables)", prog)
		}
	}
	if wired {
		f, err := os.OpenFile(tunDevice, os.O_RDWR, 0)
		if err != nil {
			return fmt.Sprintf("the wire needs TAP devices: %v", err)
		}
		_ = f.Close()
	}
	return ""
}

// randomID returns "pbl", the process ID in decimal, "x" and 8 random hex
// digits. The process ID tells reapStale whose lab a namespace is.
func randomID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("natlab: random lab id: %w", err)
	}
	return fmt.Sprintf("%s%dx%s", idPrefix, os.Getpid(), hex.EncodeToString(b[:])), nil
}

// idPrefix starts every lab ID.
const idPrefix = "pbl"

// staleNamespace matches a lab namespace and captures its owner's process ID.
var staleNamespace = regexp.MustCompile(`^` + idPrefix + `([0-9]+)x[0-9a-f]{8}-`)

// reapStale deletes the namespaces of labs whose process is gone: a test
// binary killed by a signal or by go test's -timeout runs no cleanup. Labs of
// live processes, this one included, are left alone. It returns what it
// could not delete.
func reapStale() error {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return nil // nothing to reap, or open's own checks will say why
	}
	var errs []error
	for _, line := range strings.Split(string(out), "\n") {
		ns, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		m := staleNamespace.FindStringSubmatch(ns)
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || processAlive(pid) {
			continue
		}
		if err := ip("netns", "del", ns); err != nil {
			errs = append(errs, fmt.Errorf("natlab: removing namespace %s of a lab whose process %d is gone: %w", ns, pid, err))
		}
	}
	return errors.Join(errs...)
}
