package modules

import (
	"log/slog"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/membership"
)

// Access says who may connect to a bridge or a gateway (see
// connector/membership). The zero Access is open to every node.
type Access struct {
	// Allow are allow-list entries, as --allow takes them: NODEID, or
	// NODEID:TYPE,TYPE to bound the message types the node may send.
	Allow []string
	// Trust are the accounts whose user JWTs admit a node, as --trust takes
	// them: an account public key, or a file holding the account's JWT.
	Trust []string
	// Creds is the .creds or JWT file this node presents to others (--creds).
	Creds string
}

// secure gives id its credential (a.Creds) and the policy a describes, and
// returns both. The nodes of implicit (configured peers and gateways) are
// accepted whatever the lists say.
func secure(id *identity.Identity, a Access, implicit []connector.Target, log *slog.Logger) (*identity.Identity, *membership.Policy, error) {
	var cfg membership.Config
	for _, s := range a.Allow {
		e, err := membership.ParseAllow(s)
		if err != nil {
			return nil, nil, err
		}
		cfg.Allow = append(cfg.Allow, e)
	}
	for _, s := range a.Trust {
		t, err := membership.ParseTrust(s)
		if err != nil {
			return nil, nil, err
		}
		cfg.Trust = append(cfg.Trust, t)
	}
	p, err := membership.New(cfg, log.With("component", "membership"))
	if err != nil {
		return nil, nil, err
	}
	for _, t := range implicit {
		if t.NodeID != "" {
			p.AllowNode(t.NodeID)
		}
	}
	if a.Creds != "" {
		cred, err := membership.ReadCredential(a.Creds, id.NodeID())
		if err != nil {
			return nil, nil, err
		}
		if id, err = id.WithCredential(cred); err != nil {
			return nil, nil, err
		}
		if err := p.SetOwnCredential(cred); err != nil {
			return nil, nil, err
		}
	}
	return id.WithPolicy(p.Check), p, nil
}

// mayDial is the connector's check before dialling a node: it refuses a
// node the policy would not accept, without a packet sent.
func mayDial(p *membership.Policy) func(identity.NodeID) error {
	return func(n identity.NodeID) error {
		if p.Accepts(n) {
			return nil
		}
		return &identity.NotAllowedError{Node: n, Reason: "this node does not accept it (see --allow and --trust)"}
	}
}
