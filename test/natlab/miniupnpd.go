package natlab

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// miniupnpdBin is the daemon Mapped routers run.
	miniupnpdBin = "miniupnpd"
	// miniupnpdReady bounds miniupnpd's start, its STUN check included
	// (three rounds of up to 3 s).
	miniupnpdReady = 20 * time.Second
	// miniupnpdStop bounds its exit after SIGTERM, before SIGKILL.
	miniupnpdStop = 5 * time.Second
	// miniupnpdLogLines is how many of its last log lines are kept for
	// errors.
	miniupnpdLogLines = 40
	// upnpTable is the nftables table miniupnpd adds its rules to.
	upnpTable = "natlab_upnp"
)

// miniupnpd is a miniupnpd process in a router's namespace, owned by the
// lab.
type miniupnpd struct {
	router string
	cmd    *exec.Cmd
	dir    string
	ready  chan struct{} // closed when it listens for NAT-PMP/PCP
	done   chan struct{} // closed when it exited and its log was read

	mu         sync.Mutex // guards the fields below
	log        []string   // its last log lines
	forwarding bool       // STUN enabled port forwarding
	exitErr    error
}

// startMiniupnpd starts miniupnpd for n, checking its public address
// with the STUN server at stun.
func startMiniupnpd(n *NAT, stun netip.Addr) (*miniupnpd, error) {
	dir, err := os.MkdirTemp("", "natlab-miniupnpd-")
	if err != nil {
		return nil, fmt.Errorf("natlab: miniupnpd: %w", err)
	}
	conf := filepath.Join(dir, "miniupnpd.conf")
	if err := os.WriteFile(conf, []byte(miniupnpdConf(n, stun)), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("natlab: miniupnpd: %w", err)
	}
	d := &miniupnpd{router: n.router, dir: dir, ready: make(chan struct{}), done: make(chan struct{})}
	d.cmd = exec.Command("ip", "netns", "exec", n.router, miniupnpdBin, "-d", "-f", conf, "-P", filepath.Join(dir, "pid"))
	out, err := d.cmd.StderrPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("natlab: miniupnpd: %w", err)
	}
	d.cmd.Stdout = nil
	if err := d.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("natlab: starting miniupnpd in %s: %w", n.router, err)
	}
	go d.read(out)
	return d, nil
}

// miniupnpdConf is n's miniupnpd configuration: NAT-PMP, PCP and UPnP on
// the LAN, mappings only for the LAN's own hosts and their own addresses,
// rules in upnpTable.
func miniupnpdConf(n *NAT, stun netip.Addr) string {
	lan := netip.PrefixFrom(lanAddr(n.lan, 0), 24)
	return fmt.Sprintf(`ext_ifname=%s
listening_ip=%s
http_port=0
enable_natpmp=yes
enable_upnp=yes
secure_mode=yes
system_uptime=yes
uuid=%s
ext_perform_stun=yes
ext_stun_host=%s
ext_stun_port=%d
upnp_table_name=%s
upnp_nat_table_name=%s
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
allow 1024-65535 %s 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
`, wanDev, lanDev, randomUUID(), stun, stunPort, upnpTable, upnpTable, lan)
}

func randomUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// read follows miniupnpd's log until it exits, then reaps it.
func (d *miniupnpd) read(out io.Reader) {
	defer close(d.done)
	sc := bufio.NewScanner(out)
	readyOnce := sync.OnceFunc(func() { close(d.ready) })
	for sc.Scan() {
		line := sc.Text()
		d.mu.Lock()
		d.log = append(d.log, line)
		if len(d.log) > miniupnpdLogLines {
			d.log = d.log[1:]
		}
		if strings.Contains(line, "Port forwarding is now enabled") {
			d.forwarding = true
		}
		d.mu.Unlock()
		if strings.Contains(line, "Listening for NAT-PMP/PCP traffic") {
			readyOnce()
		}
	}
	io.Copy(io.Discard, out)
	err := d.cmd.Wait()
	d.mu.Lock()
	d.exitErr = err
	d.mu.Unlock()
}

// waitReady waits until miniupnpd serves with port forwarding enabled.
func (d *miniupnpd) waitReady(timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-d.ready:
	case <-d.done:
		return fmt.Errorf("natlab: miniupnpd in %s exited: %v\n%s", d.router, d.exit(), d.lastLog())
	case <-t.C:
		return fmt.Errorf("natlab: miniupnpd in %s not ready after %v\n%s", d.router, timeout, d.lastLog())
	}
	d.mu.Lock()
	ok := d.forwarding
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("natlab: miniupnpd in %s: STUN did not enable port forwarding\n%s", d.router, d.lastLog())
	}
	return nil
}

func (d *miniupnpd) exit() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.exitErr
}

func (d *miniupnpd) lastLog() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.log, "\n")
}

// Close stops miniupnpd (SIGTERM, which has it remove its rules; SIGKILL
// after miniupnpdStop) and waits for it.
func (d *miniupnpd) Close() error {
	d.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(miniupnpdStop)
	defer t.Stop()
	var err error
	select {
	case <-d.done:
	case <-t.C:
		d.cmd.Process.Kill()
		<-d.done
		err = fmt.Errorf("natlab: miniupnpd in %s ignored SIGTERM for %v", d.router, miniupnpdStop)
	}
	return errors.Join(err, os.RemoveAll(d.dir))
}
