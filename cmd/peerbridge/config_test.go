package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// lookupIn is an environment made of env.
func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// TestConfigPrecedence: a flag beats the environment, which beats the file,
// which beats the default; repeatable flags take lists and maps.
func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "peerbridge.yaml")
	yaml := `listen: 127.0.0.1:1111
nats-listen: 127.0.0.1:2222
prefix: fromfile
timeout: 3s
max-payload: 4096
max-targets: 7
peer: [ "` + testNode + `@127.0.0.1:5555" ]
serve:
  svc.echo: svc.echo
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	fs, f := newRunFlags(io.Discard)
	if err := parseFlags(fs, []string{"--config", file, "--listen", "127.0.0.1:9999"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PEERBRIDGE_NATS_LISTEN": "127.0.0.1:3333", "NATS_URL": "nats://127.0.0.1:4444"}
	if err := applyConfig(fs, *f.config, lookupIn(env)); err != nil {
		t.Fatal(err)
	}
	c := f.cfg
	if c.Listen != "127.0.0.1:9999" || c.NATS.Listen != "127.0.0.1:3333" || c.NATS.URL != "nats://127.0.0.1:4444" ||
		c.Prefix != "fromfile" || c.Timeout != 3*time.Second || c.MaxPayload != 4096 || c.MaxTargets != 7 || c.QueueGroup != "peerbridge" ||
		len(f.peers.targets) != 1 || f.peers.targets[0].Endpoint != "127.0.0.1:5555" || f.serve["svc.echo"] != "svc.echo" {
		t.Errorf("config %+v, peers %v, serve %v", c, f.peers.targets, f.serve)
	}
}

// testNode is a valid node ID.
const testNode = "wosycu45xacmxxjw3xcnxqetbnxh72vpgl6kkmg3df2jggce7gea"

func TestConfigMistakesAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for name, tt := range map[string]struct {
		yaml string
		env  map[string]string
	}{
		"unknown key":       {yaml: "lisen: x\n"},
		"list for a scalar": {yaml: "listen: [a, b]\n"},
		"bad value in file": {yaml: "timeout: soon\n"},
		"bad YAML":          {yaml: "listen: [\n"},
		"bad value in env":  {env: map[string]string{"PEERBRIDGE_MAX_PAYLOAD": "lots"}},
		"bad peer in env":   {env: map[string]string{"PEERBRIDGE_PEER": "nobody"}},
		"missing file":      {env: map[string]string{"PEERBRIDGE_CONFIG": filepath.Join(dir, "none.yaml")}},
	} {
		file := ""
		if tt.yaml != "" {
			file = filepath.Join(dir, name+".yaml")
			if err := os.WriteFile(file, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		fs, f := newRunFlags(io.Discard)
		if err := parseFlags(fs, []string{"--config", file}, io.Discard); err != nil {
			t.Fatal(err)
		}
		err := applyConfig(fs, *f.config, lookupIn(tt.env))
		if !errors.As(err, new(*usageError)) {
			t.Errorf("%s: %v, want a usage error", name, err)
		}
	}
}

func TestEnvName(t *testing.T) {
	got := []string{envName("nats-listen"), envName("listen"), envName("max-payload")}
	if want := []string{"PEERBRIDGE_NATS_LISTEN", "PEERBRIDGE_LISTEN", "PEERBRIDGE_MAX_PAYLOAD"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
