package membership

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// Allow is one allow-list entry: a node, and the message types it may send
// (patterns with NATS wildcards: "chat.>", "svc.calc.*"); no types means
// every type.
type Allow struct {
	Node  identity.NodeID
	Types []string
}

// ParseAllow reads "NODEID" or "NODEID:TYPE,TYPE...", as --allow takes it.
func ParseAllow(s string) (Allow, error) {
	node, types, hasTypes := strings.Cut(strings.TrimSpace(s), ":")
	id, err := identity.ParseNodeID(node)
	if err != nil {
		return Allow{}, fmt.Errorf("membership: allow %q: %w", s, err)
	}
	a := Allow{Node: id}
	if hasTypes {
		for t := range strings.SplitSeq(types, ",") {
			if t = strings.TrimSpace(t); !validPattern(t) {
				return Allow{}, fmt.Errorf("membership: allow %q: bad type pattern %q", s, t)
			}
			a.Types = append(a.Types, t)
		}
	}
	return a, nil
}

// validPattern reports a NATS subject pattern: non-empty tokens, "*"
// anywhere, ">" only last, no spaces.
func validPattern(p string) bool {
	if p == "" || strings.ContainsAny(p, " \t\r\n") {
		return false
	}
	toks := strings.Split(p, ".")
	for i, t := range toks {
		if t == "" || (t == ">" && i != len(toks)-1) {
			return false
		}
	}
	return true
}

// Anchor is an account this node trusts to vouch for nodes: its public
// key, and, when the account's JWT was given, its signing keys and
// revocations.
type Anchor struct {
	Account string
	// Claims is the account's JWT, if given: it names signing keys whose
	// user JWTs are trusted too, and revoked users.
	Claims *jwt.AccountClaims
}

// ErrBadTrust reports a --trust value that is neither an account public
// key nor a file holding an account JWT.
var ErrBadTrust = errors.New("membership: want an account public key (A...) or an account JWT file")

// ParseTrust reads what --trust takes: an account public key (an nkey
// starting with A), or the path of a file holding the account's JWT (as
// `nsc describe account --raw` prints it), which adds its signing keys and
// revocations.
func ParseTrust(s string) (Anchor, error) {
	s = strings.TrimSpace(s)
	if nkeys.IsValidPublicAccountKey(s) {
		return Anchor{Account: s}, nil
	}
	data, err := os.ReadFile(s)
	if err != nil {
		return Anchor{}, fmt.Errorf("%w: %q: %w", ErrBadTrust, s, err)
	}
	token, err := jwt.ParseDecoratedJWT(data)
	if err != nil {
		return Anchor{}, fmt.Errorf("%w: %s: %w", ErrBadTrust, s, err)
	}
	ac, err := jwt.DecodeAccountClaims(strings.TrimSpace(token))
	if err != nil {
		return Anchor{}, fmt.Errorf("%w: %s: %w", ErrBadTrust, s, err)
	}
	return Anchor{Account: ac.Subject, Claims: ac}, nil
}

// ReadCredential reads what --creds takes: a .creds file as nsc writes it,
// or a file holding a user JWT, and returns the JWT. It checks that the
// JWT's subject is node's key, so a bridge cannot start with another
// node's credential.
func ReadCredential(path string, node identity.NodeID) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("membership: credential: %w", err)
	}
	token, err := jwt.ParseDecoratedJWT(data)
	if err != nil {
		return nil, fmt.Errorf("membership: credential %s: %w", path, err)
	}
	token = strings.TrimSpace(token)
	uc, err := jwt.DecodeUserClaims(token)
	if err != nil {
		return nil, fmt.Errorf("membership: credential %s: %w", path, err)
	}
	want, err := UserKey(node)
	if err != nil {
		return nil, err
	}
	if uc.Subject != want {
		return nil, fmt.Errorf("membership: credential %s is for %s, not this node's key %s (issue it with `nsc add user --public-key %s`)", path, uc.Subject, want, want)
	}
	return []byte(token), nil
}

// UserKey returns node's Ed25519 key as a NATS user public nkey (U...):
// what `nsc add user --public-key` takes to issue the node a JWT.
func UserKey(node identity.NodeID) (string, error) {
	pub, err := node.PublicKey()
	if err != nil {
		return "", fmt.Errorf("membership: %w", err)
	}
	k, err := nkeys.Encode(nkeys.PrefixByteUser, pub)
	if err != nil {
		return "", fmt.Errorf("membership: %w", err)
	}
	return string(k), nil
}
