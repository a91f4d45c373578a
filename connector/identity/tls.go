package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"time"
)

// ALPN names the peerbridge protocol and its version on every QUIC connection.
const ALPN = "peerbridge/1"

// ErrIdentityMismatch reports that a peer proved a different key than the
// node ID that was dialled.
var ErrIdentityMismatch = errors.New("identity: peer identity mismatch")

// MismatchError says which node was expected and which answered. It matches
// ErrIdentityMismatch.
type MismatchError struct {
	Want, Got NodeID
}

// Error implements error.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("identity: dialled node %s but %s answered", e.Want, e.Got)
}

// Is reports whether target is ErrIdentityMismatch.
func (e *MismatchError) Is(target error) bool { return target == ErrIdentityMismatch }

func selfSignedCert(key ed25519.PrivateKey, credential []byte) (tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("identity: serial: %w", err)
	}
	pub := key.Public().(ed25519.PublicKey)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: string(NodeIDFromPublicKey(pub))},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(100 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if credential != nil {
		tmpl.URIs = []*url.URL{credentialURI(credential)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("identity: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// ServerTLS returns the TLS configuration for accepting connections: TLS 1.3,
// the peerbridge ALPN, and a client certificate required from every peer.
func (i *Identity) ServerTLS() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{i.cert},
		ClientAuth:   tls.RequireAnyClientCert,
		NextProtos:   []string{ALPN},
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			id, cred, err := verifyChain(raw)
			if err != nil {
				return err
			}
			return i.admit(id, cred)
		},
	}
}

// ClientTLS returns the TLS configuration for dialling. If want is not empty
// the handshake fails unless the server proves that node ID, and it fails if
// the identity's policy refuses the server; refused, if not nil, then
// receives why (a *MismatchError or a *NotAllowedError), which quic-go
// would otherwise flatten into a TLS alert.
func (i *Identity) ClientTLS(want NodeID, refused *Refusal) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		Certificates:       []tls.Certificate{i.cert},
		NextProtos:         []string{ALPN},
		ServerName:         "peerbridge",
		InsecureSkipVerify: true, // verification is VerifyPeerCertificate's: the key is the identity
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			got, cred, err := verifyChain(raw)
			if err != nil {
				return err
			}
			if want != "" && got != want {
				return refused.record(&MismatchError{Want: want, Got: got})
			}
			if err := i.admit(got, cred); err != nil {
				return refused.record(err)
			}
			return nil
		},
	}
}

// PeerNodeID returns the node ID proved by the peer's certificate in cs.
func PeerNodeID(cs tls.ConnectionState) (NodeID, error) {
	if len(cs.PeerCertificates) == 0 {
		return "", errors.New("identity: peer sent no certificate")
	}
	pub, ok := cs.PeerCertificates[0].PublicKey.(ed25519.PublicKey)
	if !ok {
		return "", errors.New("identity: peer key is not Ed25519")
	}
	return NodeIDFromPublicKey(pub), nil
}

// maxCertBytes bounds a peer's certificate, checked before it is parsed:
// a key, a signature and a credential of at most MaxCredentialBytes.
const maxCertBytes = MaxCredentialBytes + 2048

// verifyChain checks that raw is one self-signed Ed25519 certificate and
// returns the node ID it proves and the credential it carries, if any.
func verifyChain(raw [][]byte) (NodeID, []byte, error) {
	if len(raw) != 1 {
		return "", nil, fmt.Errorf("identity: want one certificate, got %d", len(raw))
	}
	if len(raw[0]) > maxCertBytes {
		return "", nil, fmt.Errorf("identity: certificate of %d bytes, at most %d", len(raw[0]), maxCertBytes)
	}
	cert, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return "", nil, fmt.Errorf("identity: parsing certificate: %w", err)
	}
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok {
		return "", nil, fmt.Errorf("identity: certificate key is %T, want Ed25519", cert.PublicKey)
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return "", nil, fmt.Errorf("identity: certificate not self-signed: %w", err)
	}
	cred, err := certCredential(cert)
	if err != nil {
		return "", nil, err
	}
	return NodeIDFromPublicKey(pub), cred, nil
}
