package identity

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
)

// A node may carry a credential in its certificate: a NATS user JWT that
// says which account vouches for its key. It travels in the TLS handshake,
// so a peer decides whether to accept the node before any stream or any
// allocation of its own, and a stranger costs no more than a refused
// handshake. It is a URI subject alternative name,
//
//	peerbridge-credential:<the credential's bytes, URL-safe>
//
// which every TLS stack parses and none acts on.
const credentialScheme = "peerbridge-credential"

// MaxCredentialBytes bounds the credential a certificate may carry; a NATS
// user JWT is a few hundred bytes to a few kilobytes.
const MaxCredentialBytes = 8 << 10

// credentialURI wraps credential as the certificate's URI.
func credentialURI(credential []byte) *url.URL {
	return &url.URL{Scheme: credentialScheme, Opaque: string(credential)}
}

// certCredential returns the credential cert carries, nil if none, or an
// error if it carries more than one or an oversized one.
func certCredential(cert *x509.Certificate) ([]byte, error) {
	var cred []byte
	for _, u := range cert.URIs {
		if u.Scheme != credentialScheme {
			continue
		}
		if cred != nil {
			return nil, errors.New("identity: certificate carries two credentials")
		}
		if len(u.Opaque) > MaxCredentialBytes {
			return nil, fmt.Errorf("identity: credential of %d bytes, at most %d", len(u.Opaque), MaxCredentialBytes)
		}
		cred = []byte(u.Opaque)
	}
	return cred, nil
}

// jwtChar reports a byte a JWT may hold: base64url and the dot.
func jwtChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

// WithCredential returns a copy of i whose certificate carries credential
// (a NATS user JWT, as text: base64url and dots).
func (i *Identity) WithCredential(credential []byte) (*Identity, error) {
	if len(credential) == 0 || len(credential) > MaxCredentialBytes {
		return nil, fmt.Errorf("identity: credential of %d bytes, want 1 to %d", len(credential), MaxCredentialBytes)
	}
	for _, c := range credential {
		if !jwtChar(c) {
			return nil, fmt.Errorf("identity: credential holds %q; want a JWT (base64url and dots)", c)
		}
	}
	cert, err := selfSignedCert(i.key, credential)
	if err != nil {
		return nil, err
	}
	c := *i
	c.cert, c.credential = cert, append([]byte(nil), credential...)
	return &c, nil
}

// Credential returns the credential i's certificate carries, or nil.
func (i *Identity) Credential() []byte { return i.credential }

// Policy decides whether a handshake with peer, which proved its key and
// presented credential (nil if none), may go on. It returns nil to accept,
// and an error, usually a *NotAllowedError, to refuse: the handshake then
// fails before either side opens a stream.
type Policy func(peer NodeID, credential []byte) error

// WithPolicy returns a copy of i whose TLS configurations accept only the
// peers p accepts, as servers (inbound) and as clients (outbound). A nil
// p accepts every peer that proves a key.
func (i *Identity) WithPolicy(p Policy) *Identity {
	c := *i
	c.policy = p
	return &c
}

// admit applies i's policy to peer.
func (i *Identity) admit(peer NodeID, credential []byte) error {
	if i.policy == nil {
		return nil
	}
	return i.policy(peer, credential)
}

// ErrNotAllowed reports a peer that a policy refused: not on the allow
// list, or without a valid credential from a trusted account.
var ErrNotAllowed = errors.New("identity: peer not allowed")

// NotAllowedError says which peer a policy refused and why. It matches
// ErrNotAllowed.
type NotAllowedError struct {
	Node   NodeID
	Reason string
}

// Error implements error.
func (e *NotAllowedError) Error() string {
	return fmt.Sprintf("identity: node %s is not allowed: %s", e.Node.Short(), e.Reason)
}

// Is reports whether target is ErrNotAllowed.
func (e *NotAllowedError) Is(target error) bool { return target == ErrNotAllowed }

// Refusal receives why this side refused a handshake it dialled: quic-go
// reports only a TLS alert.
type Refusal struct{ err atomic.Pointer[error] }

// record keeps err and returns it; a nil Refusal keeps nothing.
func (r *Refusal) record(err error) error {
	if r != nil {
		r.err.Store(&err)
	}
	return err
}

// Err returns why the handshake was refused, or nil.
func (r *Refusal) Err() error {
	if p := r.err.Load(); p != nil {
		return *p
	}
	return nil
}

// PeerCredential returns the credential the peer's certificate in its
// verified leaf carries, or nil.
func PeerCredential(certs []*x509.Certificate) []byte {
	if len(certs) == 0 {
		return nil
	}
	cred, err := certCredential(certs[0])
	if err != nil {
		return nil
	}
	return cred
}
