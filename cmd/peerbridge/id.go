package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/membership"
)

func runID(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("peerbridge id", flag.ContinueOnError)
	key := fs.String("key", "", "identity key file (PEM Ed25519; created with mode 0600 if missing)")
	nkey := fs.Bool("nkey", false, "print the key as a NATS user public nkey (U...), as `nsc add user --public-key` takes it, instead of the node ID")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: peerbridge id --key FILE [--nkey]\n\nPrints the node ID of the key in FILE, creating the key if it does not exist.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *key == "" {
		return &usageError{errors.New("--key is required")}
	}
	id, err := identity.LoadOrCreate(*key)
	if errors.Is(err, identity.ErrKeyExposed) {
		return &usageError{err} // the fix is the operator's: chmod
	}
	if err != nil {
		return err
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
