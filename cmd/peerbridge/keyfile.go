package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// keyFlagUsage is the help of --key; name is the file in the state
// directory.
func keyFlagUsage(name string) string {
	return "identity key `FILE`, created with mode 0600 if missing (default: " + name + " in the state directory: $STATE_DIRECTORY under systemd, else $XDG_STATE_HOME/peerbridge, else ~/.local/state/peerbridge)"
}

// stateDir is the directory peerbridge keeps its state in: the first of
// $STATE_DIRECTORY's paths (systemd's StateDirectory=), else
// $XDG_STATE_HOME/peerbridge, else ~/.local/state/peerbridge.
func stateDir(getenv func(string) string) (string, error) {
	if d, _, _ := strings.Cut(getenv("STATE_DIRECTORY"), ":"); d != "" {
		return d, nil
	}
	if d := getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "peerbridge"), nil
	}
	home := getenv("HOME")
	if !filepath.IsAbs(home) {
		return "", errors.New("no state directory: set HOME, XDG_STATE_HOME or STATE_DIRECTORY, or pass --key FILE")
	}
	return filepath.Join(home, ".local", "state", "peerbridge"), nil
}

// keyFile is where the identity key is: file if set (--key), else name in
// the state directory, which it creates with mode 0700. isNew reports that
// no key is there yet, so that starting will create one.
func keyFile(file, name string, getenv func(string) string) (path string, isNew bool, err error) {
	if file == "" {
		dir, err := stateDir(getenv)
		if err != nil {
			return "", false, &usageError{err}
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", false, fmt.Errorf("state directory: %w", err)
		}
		file = filepath.Join(dir, name)
	}
	_, err = os.Stat(file)
	return file, errors.Is(err, fs.ErrNotExist), nil
}

// logNewKey says, in one line, that this start made a new node, and warns
// when a key of the name that used to be the default lies in the working
// directory: starting from there once used that node.
func logNewKey(log *slog.Logger, path, node, name string, explicit bool) {
	log.Info("created a new identity key: this is a new node", "key", path, "node", node)
	if _, err := os.Stat(name); err == nil && !explicit {
		log.Warn("the working directory holds "+name+", which is no longer the default key; pass --key "+name+" to keep running as that node", "key", path)
	}
}
