package main

import (
	"flag"
	"log/slog"
	"strings"

	"github.com/peerbridge/peerbridge/connector/membership"
	"github.com/peerbridge/peerbridge/modules"
)

// allowFlag is --allow: repeatable, each value checked as it is set. Its
// environment variable holds entries separated by spaces, since an entry's
// types are separated by commas.
type allowFlag []string

func (f *allowFlag) String() string { return strings.Join(*f, " ") }

func (f *allowFlag) Set(s string) error {
	if _, err := membership.ParseAllow(s); err != nil {
		return err
	}
	*f = append(*f, strings.TrimSpace(s))
	return nil
}

func (*allowFlag) repeatable()     {}
func (*allowFlag) envFields() bool { return true }

// trustFlag is --trust: repeatable, each value an account public key or an
// account JWT file, checked as it is set.
type trustFlag []string

func (f *trustFlag) String() string { return strings.Join(*f, ",") }

func (f *trustFlag) Set(s string) error {
	if _, err := membership.ParseTrust(s); err != nil {
		return err
	}
	*f = append(*f, strings.TrimSpace(s))
	return nil
}

func (*trustFlag) repeatable() {}

// accessFlags adds --allow, --trust and --creds, which say who may connect
// to what (what the lists admit, whom).
func accessFlags(fs *flag.FlagSet, a *modules.Access, what string) {
	fs.Var((*allowFlag)(&a.Allow), "allow", "accept only these nodes (and the other lists'): `NODEID`, or NODEID:TYPE,TYPE to bound the message types it may send (repeatable; env: entries separated by spaces). With no --allow and no --trust the "+what+" accepts every node")
	fs.Var((*trustFlag)(&a.Trust), "trust", "accept nodes presenting a NATS user JWT issued by this `ACCOUNT` (an account public key, or a file with the account's JWT to trust its signing keys and revocations too; repeatable)")
	fs.StringVar(&a.Creds, "creds", "", "`FILE` (.creds or JWT) this node presents to others: a user JWT for this node's key (see 'peerbridge id --nkey')")
}

// warnIfOpen says once, at start, that a bridge or gateway accepts every
// node, and how to close it, as nats-server warns of a server without
// authorization.
func warnIfOpen(log *slog.Logger, p *membership.Policy, what string) {
	if p.Open() {
		log.Warn("open to every node: any key may connect to this "+what+"; restrict who may with --allow NODEID or --trust ACCOUNT", "component", "membership")
	}
}
