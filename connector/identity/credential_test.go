package identity

import (
	"errors"
	"strings"
	"testing"
)

// TestCredentialTravelsInTheHandshake: the credential a node's certificate
// carries reaches the peer's policy, both ways.
func TestCredentialTravelsInTheHandshake(t *testing.T) {
	a, b := mustGenerate(t), mustGenerate(t)
	a, err := a.WithCredential([]byte("aaa.bbb.ccc"))
	if err != nil {
		t.Fatal(err)
	}
	var serverSaw, clientSaw string
	b = b.WithPolicy(func(peer NodeID, cred []byte) error { serverSaw = string(peer) + " " + string(cred); return nil })
	a = a.WithPolicy(func(peer NodeID, cred []byte) error { clientSaw = string(peer) + " " + string(cred); return nil })
	if c, _, s, _ := handshakeBoth(t, a, b, b.NodeID()); c != nil || s != nil {
		t.Fatalf("handshake: client %v, server %v", c, s)
	}
	if serverSaw != string(a.NodeID())+" aaa.bbb.ccc" || clientSaw != string(b.NodeID())+" " {
		t.Errorf("server's policy saw %q, client's %q", serverSaw, clientSaw)
	}
}

// TestPolicyRefusesInTheHandshake: a policy's refusal ends the handshake,
// inbound and outbound, and the dialling side learns why.
func TestPolicyRefusesInTheHandshake(t *testing.T) {
	a, b := mustGenerate(t), mustGenerate(t)
	no := func(peer NodeID, _ []byte) error { return &NotAllowedError{Node: peer, Reason: "not on the list"} }

	c, _, s, _ := handshakeBoth(t, a, b.WithPolicy(no), b.NodeID())
	if c == nil || s == nil || !errors.Is(s, ErrNotAllowed) {
		t.Errorf("a server refusing the client: client %v, server %v", c, s)
	}
	c, refused, _, _ := handshakeBoth(t, a.WithPolicy(no), b, b.NodeID())
	var na *NotAllowedError
	if c == nil || !errors.As(refused, &na) || na.Node != b.NodeID() {
		t.Errorf("a client refusing the server: %v, refusal %v", c, refused)
	}
}

func TestWithCredentialChecks(t *testing.T) {
	id := mustGenerate(t)
	for _, bad := range []string{"", strings.Repeat("a", MaxCredentialBytes+1), "has space", "a/b?c#d"} {
		if _, err := id.WithCredential([]byte(bad)); err == nil {
			t.Errorf("credential %.20q accepted", bad)
		}
	}
	with, err := id.WithCredential([]byte("x.y.z"))
	if err != nil || string(with.Credential()) != "x.y.z" || with.NodeID() != id.NodeID() || id.Credential() != nil {
		t.Errorf("WithCredential: %v, %q", err, with.Credential())
	}
}
