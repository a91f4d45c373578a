package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testVersion is stamped into the image the test builds.
const testVersion = "v9.9.9-deploytest"

// podman runs podman with its runtime options: those the test found it
// needs to start a container here.
type podman struct {
	path    string
	runtime []string // global options: --runtime runc where crun cannot run
	limits  []string // run options: limits within this process's own
}

func (p *podman) cmd(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, p.path, append(append([]string(nil), p.runtime...), args...)...)
}

// run runs 'podman run --rm' with args and returns stdout and stderr.
func (p *podman) run(t *testing.T, args ...string) (string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := p.cmd(t.Context(), append(append([]string{"run", "--rm"}, p.limits...), args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("podman run %s: %v\n%s", strings.Join(args, " "), err, &stderr)
	}
	return stdout.String(), stderr.String()
}

// TestImage builds the image with image.sh and starts it: the version is
// stamped, the user is not root, the key persists in the volume, a bridge
// starts and stops cleanly on SIGTERM. It is skipped where podman cannot
// build or start containers.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("deploy: skipping the image test in -short mode (it builds peerbridge and an image)")
	}
	pm := findPodman(t)
	tag := "localhost/peerbridge-deploytest:" + testVersion
	build := exec.CommandContext(t.Context(), filepath.Join(deployDir(t), "image.sh"), testVersion, tag)
	build.Env = append(build.Environ(), "BUILDER="+pm.path)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("image.sh: %v\n%s", err, out)
	}
	t.Cleanup(func() { pm.cmd(context.Background(), "rmi", "-f", tag).Run() })
	pm.startable(t, tag)

	checkImageConfig(t, pm, tag)
	if out, _ := pm.run(t, tag, "version"); !strings.HasPrefix(out, "peerbridge "+testVersion+" ") {
		t.Errorf("version in the image: %q, want %s", out, testVersion)
	}
	volume := "peerbridge-deploytest-" + fmt.Sprint(time.Now().UnixNano())
	t.Cleanup(func() { pm.cmd(context.Background(), "volume", "rm", "-f", volume).Run() })
	mount := volume + ":/var/lib/peerbridge"
	node, said := pm.run(t, "-v", mount, tag, "id")
	again, saidAgain := pm.run(t, "-v", mount, tag, "id")
	if node == "" || again != node || !strings.Contains(said, "/var/lib/peerbridge/peerbridge.key") || saidAgain != "" {
		t.Errorf("id twice on one volume: %q (%q), then %q (%q); want one node, the first run saying it made the key", node, said, again, saidAgain)
	}
	runBridge(t, pm, tag, mount, strings.TrimSpace(node))
}

// findPodman returns podman, or skips the test without it.
func findPodman(t *testing.T) *podman {
	t.Helper()
	path, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("deploy: skipping the image test: no podman to build and start the image (Debian: apt-get install podman runc)")
	}
	var nofile syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile); err != nil {
		t.Fatal(err)
	}
	n := min(nofile.Max, 4096)
	// podman's default limits exceed what a container inside another may
	// set; these fit within this process's.
	return &podman{path: path, limits: []string{"--ulimit", fmt.Sprintf("nofile=%d:%d", n, n), "--ulimit", "nproc=4096:4096"}}
}

// startable finds the runtime that starts tag here: the default, else
// runc (crun refuses hosts with cgroups in hybrid mode); the test is
// skipped if neither does.
func (p *podman) startable(t *testing.T, tag string) {
	t.Helper()
	try := func() ([]byte, error) {
		return p.cmd(t.Context(), append(append([]string{"run", "--rm"}, p.limits...), tag, "version")...).CombinedOutput()
	}
	out, err := try()
	if err == nil {
		return
	}
	if _, lerr := exec.LookPath("runc"); lerr == nil {
		p.runtime = []string{"--runtime", "runc"}
		if _, err := try(); err == nil {
			return
		}
	}
	t.Skipf("deploy: skipping the image test: podman built the image but cannot start a container here: %v\n%s", err, out)
}

// checkImageConfig: a numeric non-root user, the state directory a
// volume, the QUIC port exposed.
func checkImageConfig(t *testing.T, pm *podman, tag string) {
	t.Helper()
	out, err := pm.cmd(t.Context(), "image", "inspect", "--format", "{{json .Config}}", tag).Output()
	if err != nil {
		t.Fatalf("podman image inspect: %v", err)
	}
	var cfg struct {
		User         string
		Volumes      map[string]any
		ExposedPorts map[string]any
		Env          []string
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	_, vol := cfg.Volumes["/var/lib/peerbridge"]
	_, port := cfg.ExposedPorts["9443/udp"]
	if cfg.User != "65532:65532" || !vol || !port {
		t.Errorf("image config %s: want user 65532:65532, volume /var/lib/peerbridge, port 9443/udp", out)
	}
}

// runBridge starts a bridge from the image on the host's network and
// stops it with SIGTERM: it must run as node and exit 0.
func runBridge(t *testing.T, pm *podman, tag, mount, node string) {
	t.Helper()
	name := "peerbridge-deploytest-" + fmt.Sprint(time.Now().UnixNano())
	args := append(append([]string{"run", "--name", name, "--network", "host", "-v", mount}, pm.limits...),
		tag, "run", "--listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0")
	cmd := pm.cmd(t.Context(), args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pm.cmd(context.Background(), "rm", "-f", name).Run() })
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || sc.Text() != "node: "+node {
		cmd.Wait()
		t.Fatalf("the bridge printed %q, want node: %s; stderr:\n%s", sc.Text(), node, &stderr)
	}
	if out, err := pm.cmd(t.Context(), "stop", "--time", "10", name).CombinedOutput(); err != nil {
		t.Fatalf("podman stop: %v\n%s", err, out)
	}
	for sc.Scan() {
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("the bridge exited with %v after SIGTERM; stderr:\n%s", err, &stderr)
	}
}
