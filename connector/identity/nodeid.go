package identity

import (
	"crypto/ed25519"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

// NodeID names a node: its Ed25519 public key in lower-case, unpadded base32.
type NodeID string

// nodeIDAlphabet is the base32 alphabet of node IDs, in lower case.
const nodeIDAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

var nodeIDEncoding = base32.NewEncoding(nodeIDAlphabet).WithPadding(base32.NoPadding)

// nodeIDLen is the length of an encoded 32-byte key.
var nodeIDLen = nodeIDEncoding.EncodedLen(ed25519.PublicKeySize)

// ErrInvalidNodeID reports a string that is not a node ID.
var ErrInvalidNodeID = errors.New("identity: invalid node ID")

// NodeIDFromPublicKey returns the node ID of pub.
func NodeIDFromPublicKey(pub ed25519.PublicKey) NodeID {
	return NodeID(nodeIDEncoding.EncodeToString(pub))
}

// unusedBits is how many low bits of an ID's last character carry no key
// bits: 52 characters hold 260 bits, the key 256.
var unusedBits = nodeIDLen*5 - ed25519.PublicKeySize*8

// ParseNodeID checks s and returns it as a NodeID. Upper case is accepted and
// folded to lower case. Only the canonical spelling of a key is accepted: the
// unused low bits of the last character must be zero, so that one key has
// one node ID.
func ParseNodeID(s string) (NodeID, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) != nodeIDLen {
		return "", fmt.Errorf("%w: %q has %d characters, want %d", ErrInvalidNodeID, s, len(s), nodeIDLen)
	}
	// At this length, decoding succeeds exactly when every character is in
	// the alphabet; checking that spares the bridge a decode per message.
	for i := range len(s) {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return "", fmt.Errorf("%w: %q: illegal character %q at %d", ErrInvalidNodeID, s, c, i)
		}
	}
	if last := strings.IndexByte(nodeIDAlphabet, s[len(s)-1]); last&(1<<unusedBits-1) != 0 {
		return "", fmt.Errorf("%w: %q is not canonical: the last character's unused bits are set", ErrInvalidNodeID, s)
	}
	return NodeID(s), nil
}

// PublicKey returns the Ed25519 key the ID names. It fails for an ID that is
// not the canonical spelling of its key.
func (id NodeID) PublicKey() (ed25519.PublicKey, error) {
	b, err := nodeIDEncoding.DecodeString(string(id))
	if err != nil || len(b) != ed25519.PublicKeySize || NodeIDFromPublicKey(b) != id {
		return nil, fmt.Errorf("%w: %q", ErrInvalidNodeID, string(id))
	}
	return ed25519.PublicKey(b), nil
}

// Short returns the first 8 characters, for logs.
func (id NodeID) Short() string {
	if len(id) > 8 {
		return string(id[:8])
	}
	return string(id)
}

// String returns the full ID.
func (id NodeID) String() string { return string(id) }
