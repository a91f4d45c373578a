package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/membership"
	"github.com/peerbridge/peerbridge/modules"
)

func runID(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("peerbridge id", flag.ContinueOnError)
	key := fs.String("key", "", "PEM Ed25519 "+keyFlagUsage(modules.DefaultKeyFile))
	nkey := fs.Bool("nkey", false, "print the key as a NATS user public nkey (U...), as `nsc add user --public-key` takes it, instead of the node ID")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: peerbridge id [--key FILE] [--nkey]\n\nPrints the node ID of the key in FILE, creating the key if it does not exist;\nwithout --key, of the key 'peerbridge run' uses by default.")
		printFlags(stderr, fs, idFlagGroups()...)
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	path, isNew, err := keyFile(*key, modules.DefaultKeyFile, os.Getenv)
	if err != nil {
		return err
	}
	id, err := identity.LoadOrCreate(path)
	if errors.Is(err, identity.ErrKeyExposed) {
		return &usageError{err} // the fix is the operator's: chmod
	}
	if err != nil {
		return err
	}
	if isNew {
		fmt.Fprintf(stderr, "created a new identity key at %s: node %s\n", path, id.NodeID())
	}
	if *nkey {
		u, err := membership.UserKey(id.NodeID())
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, u)
		return nil
	}
	fmt.Fprintln(stdout, id.NodeID())
	return nil
}

// idFlagGroups are the groups of 'peerbridge id --help'.
func idFlagGroups() []flagGroup {
	return []flagGroup{
		{"Key", "peerbridge id --key /var/lib/peerbridge/peerbridge.key --nkey", []string{"key", "nkey"}},
	}
}
