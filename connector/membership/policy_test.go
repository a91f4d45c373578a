package membership

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// account is a NATS account for tests: its key, and a signing key it names
// in its JWT.
type account struct {
	kp, signer nkeys.KeyPair
	pub        string
	claims     *jwt.AccountClaims
}

func newAccount(t *testing.T) *account {
	t.Helper()
	kp, _ := nkeys.CreateAccount()
	signer, _ := nkeys.CreateAccount()
	pub, _ := kp.PublicKey()
	spub, _ := signer.PublicKey()
	ac := jwt.NewAccountClaims(pub)
	ac.SigningKeys.Add(spub)
	op, _ := nkeys.CreateOperator()
	token, err := ac.Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	if ac, err = jwt.DecodeAccountClaims(token); err != nil {
		t.Fatal(err)
	}
	return &account{kp: kp, signer: signer, pub: pub, claims: ac}
}

// issue returns a user JWT for node signed by by, shaped by edit.
func issue(t *testing.T, node identity.NodeID, by nkeys.KeyPair, edit func(*jwt.UserClaims)) []byte {
	t.Helper()
	upub, err := UserKey(node)
	if err != nil {
		t.Fatal(err)
	}
	uc := jwt.NewUserClaims(upub)
	if edit != nil {
		edit(uc)
	}
	token, err := uc.Encode(by)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(token)
}

func node(t *testing.T) identity.NodeID {
	t.Helper()
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return id.NodeID()
}

func TestOpenPolicyAcceptsEveryone(t *testing.T) {
	p, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := node(t)
	if !p.Open() || p.Check(n, nil) != nil || !p.Accepts(n) || !p.MayDeliver(n, "x", "peer.recv.x") || p.Membership(n) != "open" {
		t.Error("an open policy refused something")
	}
}

func TestAllowList(t *testing.T) {
	listed, typed, stranger := node(t), node(t), node(t)
	p, err := New(Config{Allow: []Allow{{Node: listed}, {Node: typed, Types: []string{"chat.>", "svc.calc.*"}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Check(listed, nil) != nil || p.Check(typed, nil) != nil {
		t.Error("a listed node was refused")
	}
	if err := p.Check(stranger, nil); !errors.Is(err, identity.ErrNotAllowed) || p.Accepts(stranger) {
		t.Errorf("a stranger: %v, accepted for sends %v", err, p.Accepts(stranger))
	}
	for _, tc := range []struct {
		node identity.NodeID
		typ  string
		want bool
	}{
		{listed, "anything", true}, {typed, "chat.room1", true}, {typed, "svc.calc.add", true},
		{typed, "svc.admin.drop", false}, {stranger, "chat.room1", false},
	} {
		if got := p.MayDeliver(tc.node, tc.typ, "peer.recv."+tc.typ); got != tc.want {
			t.Errorf("MayDeliver(%s, %q) = %v, want %v", tc.node.Short(), tc.typ, got, tc.want)
		}
	}
	if st := p.Stats(); st.Refused != 1 || st.Accepted != 2 {
		t.Errorf("stats %+v", st)
	}
	p.AllowNode(stranger)
	if p.Check(stranger, nil) != nil || p.Membership(stranger) != "allowed by list" {
		t.Error("a node allowed later was refused")
	}
}

func TestTrustedAccountMembers(t *testing.T) {
	acct, other := newAccount(t), newAccount(t)
	now := time.Unix(1_800_000_000, 0)
	p, err := New(Config{Trust: []Anchor{{Account: acct.pub, Claims: acct.claims}}, Now: func() time.Time { return now }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := node(t)
	revoked := node(t)
	upub, _ := UserKey(revoked)
	acct.claims.RevokeAt(upub, now.Add(-time.Minute))
	for _, tc := range []struct {
		name string
		node identity.NodeID
		cred []byte
		ok   bool
	}{
		{"member", n, issue(t, n, acct.kp, nil), true},
		{"signing key", n, issue(t, n, acct.signer, func(uc *jwt.UserClaims) { uc.IssuerAccount = acct.pub }), true},
		{"expired", n, issue(t, n, acct.kp, func(uc *jwt.UserClaims) { uc.Expires = now.Add(-time.Second).Unix() }), false},
		{"not yet valid", n, issue(t, n, acct.kp, func(uc *jwt.UserClaims) { uc.NotBefore = now.Add(time.Hour).Unix() }), false},
		{"another account", n, issue(t, n, other.kp, nil), false},
		{"another account's signer posing", n, issue(t, n, other.signer, func(uc *jwt.UserClaims) { uc.IssuerAccount = acct.pub }), false},
		{"for another key", node(t), issue(t, n, acct.kp, nil), false},
		{"revoked", revoked, issue(t, revoked, acct.kp, func(uc *jwt.UserClaims) { uc.IssuedAt = now.Add(-time.Hour).Unix() }), false},
		{"garbage", n, []byte("a.b.c"), false},
		{"none", n, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Check(tc.node, tc.cred)
			if (err == nil) != tc.ok {
				t.Errorf("Check = %v, want accepted %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, identity.ErrNotAllowed) {
				t.Errorf("refusal %v is not ErrNotAllowed", err)
			}
		})
	}
}

func TestMemberPermissions(t *testing.T) {
	acct := newAccount(t)
	now := time.Unix(1_800_000_000, 0)
	p, _ := New(Config{Trust: []Anchor{{Account: acct.pub}}, Now: func() time.Time { return now }}, nil)
	n := node(t)
	cred := issue(t, n, acct.kp, func(uc *jwt.UserClaims) {
		uc.Pub.Allow.Add("peer.recv.chat.>")
		uc.Pub.Deny.Add("peer.recv.chat.secret")
		uc.Expires = now.Add(time.Hour).Unix()
	})
	if err := p.Check(n, cred); err != nil {
		t.Fatal(err)
	}
	if p.Membership(n) != "member of account "+acct.pub {
		t.Errorf("membership %q", p.Membership(n))
	}
	for subject, want := range map[string]bool{"peer.recv.chat.room1": true, "peer.recv.chat.secret": false, "peer.recv.svc.x": false} {
		if got := p.MayDeliver(n, "", subject); got != want {
			t.Errorf("MayDeliver(%q) = %v, want %v", subject, got, want)
		}
	}
	now = now.Add(2 * time.Hour) // the JWT expired since the handshake
	if p.MayDeliver(n, "", "peer.recv.chat.room1") {
		t.Error("a member whose JWT expired may still deliver")
	}
}

func TestReadCredentialAndTrustFiles(t *testing.T) {
	acct := newAccount(t)
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	n := id.NodeID()
	dir := t.TempDir()
	cred := issue(t, n, acct.kp, nil)
	// A .creds file holds the user's seed too: here the node's own key.
	ukp, err := nkeys.FromRawSeed(nkeys.PrefixByteUser, id.PrivateKey().Seed())
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := ukp.Seed()
	creds, err := jwt.FormatUserConfig(string(cred), seed)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "node.creds")
	os.WriteFile(path, creds, 0o600)
	got, err := ReadCredential(path, n)
	if err != nil || string(got) != string(cred) {
		t.Fatalf("ReadCredential: %v", err)
	}
	if _, err := ReadCredential(path, node(t)); err == nil {
		t.Error("another node's credential was taken")
	}
	acctToken, _ := acct.claims.Encode(acct.kp) // any signer: the file is the operator's word
	acctPath := filepath.Join(dir, "account.jwt")
	os.WriteFile(acctPath, []byte(acctToken), 0o600)
	a, err := ParseTrust(acctPath)
	if err != nil || a.Account != acct.pub || a.Claims == nil {
		t.Fatalf("ParseTrust(file): %+v, %v", a, err)
	}
	if a, err := ParseTrust(acct.pub); err != nil || a.Claims != nil {
		t.Fatalf("ParseTrust(key): %+v, %v", a, err)
	}
	if _, err := ParseTrust("not-a-key"); !errors.Is(err, ErrBadTrust) {
		t.Errorf("ParseTrust(junk): %v", err)
	}
}

func TestParseAllow(t *testing.T) {
	n := node(t)
	a, err := ParseAllow(string(n) + ":chat.>,svc.calc.*")
	if err != nil || a.Node != n || len(a.Types) != 2 {
		t.Fatalf("ParseAllow: %+v, %v", a, err)
	}
	for _, bad := range []string{"nope", string(n) + ":", string(n) + ":a..b", string(n) + ":>.a"} {
		if _, err := ParseAllow(bad); err == nil {
			t.Errorf("ParseAllow(%q) accepted", bad)
		}
	}
}

// FuzzCheck: whatever credential a peer presents, Check accepts only a
// valid member or refuses with ErrNotAllowed, and never panics.
func FuzzCheck(f *testing.F) {
	kp, _ := nkeys.CreateAccount()
	pub, _ := kp.PublicKey()
	id, _ := identity.Generate()
	upub, _ := UserKey(id.NodeID())
	token, _ := jwt.NewUserClaims(upub).Encode(kp)
	f.Add([]byte(token))
	f.Add([]byte("eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.AAAA"))
	f.Add([]byte{})
	p, _ := New(Config{Trust: []Anchor{{Account: pub}}}, nil)
	f.Fuzz(func(t *testing.T, cred []byte) {
		err := p.Check(id.NodeID(), cred)
		if err != nil && !errors.Is(err, identity.ErrNotAllowed) {
			t.Fatalf("refusal %v is not ErrNotAllowed", err)
		}
		if err == nil && string(cred) != token && p.Membership(id.NodeID()) == "not allowed" {
			t.Fatalf("accepted %q without remembering a membership", cred)
		}
	})
}

// TestMaySendFollowsOwnCredential: a node checks its own credential's
// publish permissions before it sends.
func TestMaySendFollowsOwnCredential(t *testing.T) {
	acct := newAccount(t)
	p, _ := New(Config{}, nil)
	if !p.MaySend("peer", "anything") {
		t.Error("a node without a credential may not send")
	}
	cred := issue(t, node(t), acct.kp, func(uc *jwt.UserClaims) { uc.Pub.Allow.Add("peer.recv.chat.>") })
	if err := p.SetOwnCredential(cred); err != nil {
		t.Fatal(err)
	}
	if !p.MaySend("peer", "chat.room1") || p.MaySend("peer", "svc.admin") {
		t.Error("MaySend does not follow the credential's publish permissions")
	}
}
