package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStateDir(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"systemd", map[string]string{"STATE_DIRECTORY": "/var/lib/peerbridge", "XDG_STATE_HOME": "/x", "HOME": "/home/u"}, "/var/lib/peerbridge"},
		{"systemd, several directories", map[string]string{"STATE_DIRECTORY": "/var/lib/peerbridge:/var/lib/other"}, "/var/lib/peerbridge"},
		{"XDG", map[string]string{"XDG_STATE_HOME": "/x/state", "HOME": "/home/u"}, "/x/state/peerbridge"},
		{"relative XDG is ignored", map[string]string{"XDG_STATE_HOME": "state", "HOME": "/home/u"}, "/home/u/.local/state/peerbridge"},
		{"home", map[string]string{"HOME": "/home/u"}, "/home/u/.local/state/peerbridge"},
	} {
		got, err := stateDir(getenvIn(tt.env))
		if err != nil || got != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := stateDir(getenvIn(nil)); err == nil || !strings.Contains(err.Error(), "--key") {
		t.Errorf("no directory at all: %v, want an error naming --key", err)
	}
}

// getenvIn is an os.Getenv over env.
func getenvIn(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// TestKeyFileMakesPrivateStateDir: the default key lies in the state
// directory, made 0700; --key is taken as it is.
func TestKeyFileMakesPrivateStateDir(t *testing.T) {
	home := t.TempDir()
	path, isNew, err := keyFile("", "peerbridge.key", getenvIn(map[string]string{"HOME": home}))
	dir := filepath.Join(home, ".local", "state", "peerbridge")
	if err != nil || path != filepath.Join(dir, "peerbridge.key") || !isNew {
		t.Fatalf("keyFile: %q, new %v, %v", path, isNew, err)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("state directory: %v, mode %v; want 0700", err, info.Mode().Perm())
	}
	explicit := filepath.Join(home, "mine.key")
	if err := os.WriteFile(explicit, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if path, isNew, err := keyFile(explicit, "peerbridge.key", getenvIn(nil)); err != nil || path != explicit || isNew {
		t.Errorf("--key %s: %q, new %v, %v", explicit, path, isNew, err)
	}
}

// TestIDSaysOnceItMadeAKey: 'peerbridge id' without --key uses the
// state directory's key; making it says so in one line with the path and
// the node ID, and only then.
func TestIDSaysOnceItMadeAKey(t *testing.T) {
	state := t.TempDir()
	t.Setenv("STATE_DIRECTORY", "")
	t.Setenv("XDG_STATE_HOME", state)
	path := filepath.Join(state, "peerbridge", "peerbridge.key")
	for i, wantLines := range []int{1, 0} {
		var stdout, stderr bytes.Buffer
		if code := mainCode(context.Background(), []string{"id"}, &stdout, &stderr); code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, code, &stderr)
		}
		node := strings.TrimSpace(stdout.String())
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if wantLines == 0 && stderr.Len() == 0 {
			continue
		}
		if len(lines) != wantLines || !strings.Contains(lines[0], path) || !strings.Contains(lines[0], node) {
			t.Errorf("run %d: stderr %q, want %d line with %s and %s", i, &stderr, wantLines, path, node)
		}
	}
}
