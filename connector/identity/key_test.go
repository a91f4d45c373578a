package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLoadOrCreateKeepsTheKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir", "node.key")
	first, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %v, want 0600", perm)
	}
	again, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if again.NodeID() != first.NodeID() {
		t.Errorf("reloaded node ID %s, want %s", again.NodeID(), first.NodeID())
	}
	pub, err := first.NodeID().PublicKey()
	if err != nil || !pub.Equal(first.PrivateKey().Public()) {
		t.Errorf("node ID does not decode to the public key: %v", err)
	}
}

func TestLoadOrCreateRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	rsaLike, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"empty":         nil,
		"not PEM":       []byte("hello"),
		"wrong block":   []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
		"truncated DER": append([]byte("-----BEGIN PRIVATE KEY-----\n"), append([]byte("MC4CAQAwBQ"), []byte("\n-----END PRIVATE KEY-----\n")...)...),
		"DER, not PEM":  rsaLike,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreate(path); err == nil {
			t.Errorf("%s: LoadOrCreate succeeded", name)
		}
	}
}

// handshake runs a TLS 1.3 handshake in memory between a client that wants
// want and a server with identity server.
func handshake(t *testing.T, client, server *Identity, want NodeID) (clientErr error, mismatch *MismatchError, seen NodeID) {
	clientErr, refused, _, seen := handshakeBoth(t, client, server, want)
	errors.As(refused, &mismatch)
	return clientErr, mismatch, seen
}

// handshakeBoth runs a TLS 1.3 handshake in memory and returns both sides'
// errors, what the client's Refusal kept, and the node the server saw.
func handshakeBoth(t *testing.T, client, server *Identity, want NodeID) (clientErr, refused, serverErr error, seen NodeID) {
	t.Helper()
	var m Refusal
	c, s := tlsPipe(t, client.ClientTLS(want, &m), server.ServerTLS())
	errs := make(chan error, 1)
	go func() {
		err := s.Handshake()
		if err == nil {
			seen, err = PeerNodeID(s.ConnectionState())
		}
		s.Close()
		errs <- err
	}()
	clientErr = c.Handshake()
	if clientErr == nil {
		// In TLS 1.3 the client is done before the server has checked its
		// certificate; a refusal arrives as an alert on the first read.
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != nil && !errors.Is(err, io.EOF) {
			clientErr = err
		}
	}
	c.Close()
	serverErr = <-errs
	return clientErr, m.Err(), serverErr, seen
}

func TestTLSAuthenticatesBothWays(t *testing.T) {
	a, b, other := mustGenerate(t), mustGenerate(t), mustGenerate(t)

	err, mismatch, seen := handshake(t, a, b, b.NodeID())
	if err != nil || mismatch != nil {
		t.Fatalf("handshake with the right node ID: %v, %v", err, mismatch)
	}
	if seen != a.NodeID() {
		t.Errorf("server saw client %s, want %s", seen, a.NodeID())
	}

	err, mismatch, _ = handshake(t, a, b, other.NodeID())
	if err == nil || mismatch == nil || !errors.Is(mismatch, ErrIdentityMismatch) || mismatch.Got != b.NodeID() {
		t.Errorf("handshake with the wrong node ID: %v, %+v; want an identity mismatch naming %s", err, mismatch, b.NodeID())
	}
}

func TestVerifyChainRefusesForeignSignature(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer := mustGenerate(t)
	tmpl := &x509.Certificate{SerialNumber: bigOne()}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, signer.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := verifyChain([][]byte{der}); err == nil {
		t.Error("a certificate for one key signed by another was accepted")
	}
	if _, _, err := verifyChain(nil); err == nil {
		t.Error("no certificate was accepted")
	}
	if _, _, err := verifyChain([][]byte{der, der}); err == nil {
		t.Error("a chain of two was accepted")
	}
}

// FuzzVerifyChain: whatever certificate bytes a peer sends, verification
// returns an error or the node ID of a key that signed the certificate.
func FuzzVerifyChain(f *testing.F) {
	id, err := Generate()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(id.cert.Certificate[0])
	if withCred, err := id.WithCredential([]byte("eyJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln")); err == nil {
		f.Add(withCred.cert.Certificate[0])
	}
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x82, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, der []byte) {
		got, cred, err := verifyChain([][]byte{der})
		if err != nil {
			return
		}
		if len(cred) > MaxCredentialBytes {
			t.Fatalf("verified certificate carried a credential of %d bytes", len(cred))
		}
		if _, err := ParseNodeID(string(got)); err != nil {
			t.Fatalf("verified certificate gave a bad node ID %q: %v", got, err)
		}
	})
}

func mustGenerate(t *testing.T) *Identity {
	t.Helper()
	id, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestLoadOrCreateRefusesExposedKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.key")
	if _, err := LoadOrCreate(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(path); !errors.Is(err, ErrKeyExposed) {
		t.Fatalf("key with mode 0644: %v, want ErrKeyExposed", err)
	}
}
