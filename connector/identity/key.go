package identity

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Identity is a node's private key, its node ID and its TLS certificate.
type Identity struct {
	key  ed25519.PrivateKey
	id   NodeID
	cert tls.Certificate
	// credential is what cert carries beside the key (see WithCredential);
	// policy decides which peers a handshake accepts (see WithPolicy).
	credential []byte
	policy     Policy
}

// Generate makes a new random identity.
func Generate() (*Identity, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("identity: generating key: %w", err)
	}
	return FromKey(key)
}

// FromKey builds an identity around an existing private key.
func FromKey(key ed25519.PrivateKey) (*Identity, error) {
	cert, err := selfSignedCert(key, nil)
	if err != nil {
		return nil, err
	}
	pub := key.Public().(ed25519.PublicKey)
	return &Identity{key: key, id: NodeIDFromPublicKey(pub), cert: cert}, nil
}

// LoadOrCreate reads the PEM (PKCS #8) Ed25519 key at path, or creates one
// there with mode 0600 if the file does not exist. A key file that group or
// others may access is refused with ErrKeyExposed.
func LoadOrCreate(path string) (*Identity, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return create(path)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: reading key: %w", err)
	}
	if err := checkPrivate(path); err != nil {
		return nil, err
	}
	key, err := parseKey(data)
	if err != nil {
		return nil, fmt.Errorf("identity: %s: %w", path, err)
	}
	return FromKey(key)
}

// ErrKeyExposed: the key file can be read by others than its owner.
var ErrKeyExposed = errors.New("identity: key file readable by others")

// checkPrivate refuses a key file that group or others may read or write,
// as ssh does: whoever reads the key is the node.
func checkPrivate(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o; make it readable by its owner only (chmod 600 %s)", ErrKeyExposed, path, perm, path)
	}
	return nil
}

func create(path string) (*Identity, error) {
	id, err := Generate()
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(id.key)
	if err != nil {
		return nil, fmt.Errorf("identity: encoding key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("identity: creating key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("identity: creating key file: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, fmt.Errorf("identity: writing key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("identity: writing key: %w", err)
	}
	return id, nil
}

func parseKey(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("no PEM PRIVATE KEY block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing key: %w", err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, want Ed25519", k)
	}
	return key, nil
}

// NodeID returns the node's ID.
func (i *Identity) NodeID() NodeID { return i.id }

// PrivateKey returns the node's private key.
func (i *Identity) PrivateKey() ed25519.PrivateKey { return i.key }

// StatelessResetKey derives a QUIC stateless reset key from the private key.
// It is the same across restarts, so a restarted node resets connections its
// earlier run held and peers learn at once that those are gone.
func (i *Identity) StatelessResetKey() [32]byte {
	var k [32]byte
	b, err := hkdf.Key(sha256.New, i.key.Seed(), nil, "peerbridge quic stateless reset", len(k))
	if err != nil {
		panic("identity: hkdf: " + err.Error()) // cannot happen for a 32-byte output
	}
	copy(k[:], b)
	return k
}
