package e2e_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/membership"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// keyOf creates a key file in dir and returns its path, its node ID and
// its user nkey, as 'peerbridge id' prints them.
func keyOf(t *testing.T, bin, dir, name string) (path, node, nkey string) {
	t.Helper()
	path = filepath.Join(dir, name+".key")
	id := func(args ...string) string {
		out, err := exec.Command(bin, append([]string{"id", "--key", path}, args...)...).Output()
		if err != nil {
			t.Fatalf("peerbridge id %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	return path, id(), id("--nkey")
}

// sendCode publishes data on subject from nc with header h, waits for the
// answer, and returns its error code ("" for success).
func sendCode(t *testing.T, nc *nats.Conn, subject string, h nats.Header, data string) string {
	t.Helper()
	return errCode(request(t, nc, subject, h, []byte(data)))
}

// TestBinaryAllowList: a bridge with --allow answers the nodes it lists and
// refuses a stranger in the handshake: the stranger's requester gets 403,
// nothing of the stranger's is published, the refusal is logged with the
// stranger's node ID, and the closed bridge answers 403 itself when asked
// to send to the stranger. An entry with types bounds what its node may send.
func TestBinaryAllowList(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	keyA, nodeA, _ := keyOf(t, bin, dir, "a")
	keyS, _, _ := keyOf(t, bin, dir, "s")
	common := []string{"--listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0"}
	b := runDaemon(t, bin, append(common, "--key", filepath.Join(dir, "b.key"), "--allow", nodeA+":chat.>,echo")...)
	peerB := "--peer=" + b.node + "@" + b.quic
	a := runDaemon(t, bin, append(common, "--key", keyA, peerB)...)
	s := runDaemon(t, bin, append(common, "--key", keyS, peerB)...)
	ncA, ncB, ncS := dial(t, a.nats), dial(t, b.nats), dial(t, s.nats)
	echo(t, ncB, "peer.recv.echo")
	echo(t, ncB, "peer.recv.svc.admin")
	chat := subscribe(t, ncB, "peer.recv.chat.>")
	toB := nats.Header{bridge.HeaderNode: {b.node}}

	if code := sendCode(t, ncA, "peer.request.echo", toB, "hi"); code != "" {
		t.Errorf("the allowed node's request: %s", code)
	}
	if code := sendCode(t, ncA, "peer.send.chat.room1", toB, "from a"); code != "" {
		t.Errorf("the allowed node's chat: %s", code)
	}
	if m := next(t, chat); string(m.Data) != "from a" || m.Header.Get(bridge.HeaderFrom) != a.node {
		t.Errorf("b received %q from %q", m.Data, m.Header.Get(bridge.HeaderFrom))
	}
	if code := sendCode(t, ncA, "peer.request.svc.admin", toB, "drop"); code != "403" {
		t.Errorf("the allowed node's request outside its types: %q, want 403", code)
	}
	for _, subject := range []string{"peer.request.echo", "peer.send.chat.room1"} {
		if code := sendCode(t, ncS, subject, toB, "from the stranger"); code != "403" {
			t.Errorf("the stranger's %s: %q, want 403", subject, code)
		}
	}
	if code := sendCode(t, ncB, "peer.request.echo", nats.Header{bridge.HeaderNode: {s.node}, bridge.HeaderEndpoint: {s.quic}}, "to the stranger"); code != "403" {
		t.Errorf("b's request to the stranger: %q, want 403", code)
	}
	// a's second chat message arrives after anything the stranger sent
	// would have: nothing of the stranger's is there.
	sendCode(t, ncA, "peer.send.chat.room1", toB, "again")
	if m := next(t, chat); string(m.Data) != "again" {
		t.Errorf("b published %q from %q", m.Data, m.Header.Get(bridge.HeaderFrom))
	}
	waitUntil(t, "the refusal logged", func() bool { return hasLine(b.stderr.String(), "refusing a node", s.node) })
	if !hasLine(s.stderr.String(), "open to every node") || hasLine(b.stderr.String(), "open to every node") {
		t.Error("the open bridge did not warn that it is open, or the closed one did")
	}
}

// testAccount is a NATS account for the JWT tests, as nsc would make one.
type testAccount struct {
	kp   nkeys.KeyPair
	pub  string
	file string // the account's JWT, with its revocations
	jwt  *jwt.AccountClaims
}

func newTestAccount(t *testing.T, dir, name string) *testAccount {
	t.Helper()
	kp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	return &testAccount{kp: kp, pub: pub, file: filepath.Join(dir, name+".jwt"), jwt: jwt.NewAccountClaims(pub)}
}

// save writes the account's JWT, signed by an operator.
func (a *testAccount) save(t *testing.T) {
	t.Helper()
	op, _ := nkeys.CreateOperator()
	token, err := a.jwt.Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.file, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
}

// issue writes a user JWT for the node with user nkey nkey and returns
// the file, as `nsc add user --public-key` and `nsc describe user --raw` do.
func (a *testAccount) issue(t *testing.T, dir, name, nkey string, edit func(*jwt.UserClaims)) string {
	t.Helper()
	uc := jwt.NewUserClaims(nkey)
	if edit != nil {
		edit(uc)
	}
	token, err := uc.Encode(a.kp)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".jwt")
	if err := os.WriteFile(path, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBinaryTrustedAccount: a bridge with --trust accepts a node with a
// valid user JWT from the account, and refuses one whose JWT expired, was
// revoked or comes from another account, each at the handshake (403 at the
// requester). A member's JWT publish permissions bound what it may cause.
func TestBinaryTrustedAccount(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	acct, other := newTestAccount(t, dir, "acct"), newTestAccount(t, dir, "other")
	keyB, _, nkeyB := keyOf(t, bin, dir, "b")
	keyA, _, nkeyA := keyOf(t, bin, dir, "a")
	keyX, _, nkeyX := keyOf(t, bin, dir, "expired")
	keyR, _, nkeyR := keyOf(t, bin, dir, "revoked")
	keyO, _, nkeyO := keyOf(t, bin, dir, "other")
	credB := acct.issue(t, dir, "b", nkeyB, nil)
	credA := acct.issue(t, dir, "a", nkeyA, func(uc *jwt.UserClaims) { uc.Pub.Allow.Add("peer.recv.echo", "peer.recv.chat.>") })
	credX := acct.issue(t, dir, "x", nkeyX, func(uc *jwt.UserClaims) { uc.Expires = time.Now().Add(-time.Minute).Unix() })
	credR := acct.issue(t, dir, "r", nkeyR, nil)
	credO := other.issue(t, dir, "o", nkeyO, nil)
	acct.jwt.RevokeAt(nkeyR, time.Now().Add(time.Minute)) // every JWT issued for it before then
	acct.save(t)

	common := []string{"--listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--trust", acct.pub}
	b := runDaemon(t, bin, "--listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--key", keyB, "--creds", credB, "--trust", acct.file)
	peerB := "--peer=" + b.node + "@" + b.quic
	ncB := dial(t, b.nats)
	echo(t, ncB, "peer.recv.echo")
	echo(t, ncB, "peer.recv.svc.admin")
	toB := nats.Header{bridge.HeaderNode: {b.node}}
	for _, tc := range []struct {
		name, key, cred string
		subject, want   string
	}{
		{"member", keyA, credA, "peer.request.echo", ""},
		{"member outside its permissions", keyA, credA, "peer.request.svc.admin", "403"},
		{"expired", keyX, credX, "peer.request.echo", "403"},
		{"revoked", keyR, credR, "peer.request.echo", "403"},
		{"another account", keyO, credO, "peer.request.echo", "403"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := runDaemon(t, bin, append(common, "--key", tc.key, "--creds", tc.cred, peerB)...)
			if code := sendCode(t, dial(t, n.nats), tc.subject, toB, "hi"); code != tc.want {
				t.Errorf("%s: %q, want %q", tc.subject, code, tc.want)
			}
			n.terminate(t)
		})
	}
	if st := b.stderr.String(); !hasLine(st, "refusing a node", "credential expired") {
		t.Errorf("b did not log the expired credential's refusal:\n%s", st)
	}
}

// TestBinaryGatewayServesMembersOnly: a gateway with --trust refuses a
// stranger's registration and lookup in the handshake, and serves a member.
func TestBinaryGatewayServesMembersOnly(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	acct := newTestAccount(t, dir, "acct")
	g := start(t, bin, "gateway", "--key", filepath.Join(dir, "gw.key"), "--listen", "127.0.0.1:0", "--trust", acct.pub)
	gw, err := connector.ParseTarget(g.await(t, "gateway")["gateway"])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	register := func(c *connector.Connector) error {
		payload, _ := wire.Encode(&wire.Registration{Mapping: wire.MappingIndependent, Filtering: wire.FilteringIndependent})
		_, err := c.Request(ctx, connector.Outbound{Target: gw, Type: wire.TypeRegister, Payload: payload})
		return err
	}
	lookup := func(c *connector.Connector) error {
		payload, _ := wire.Encode(&wire.NodeRequest{Node: string(c.NodeID())})
		_, err := c.Request(ctx, connector.Outbound{Target: gw, Type: wire.TypeLookup, Payload: payload})
		return err
	}
	stranger := connectortest.Start(t, connector.Config{}, nil)
	if err := register(stranger); !errors.Is(err, connector.ErrRefusedByPeer) {
		t.Errorf("a stranger's registration: %v, want refused by the gateway", err)
	}
	if err := lookup(stranger); !errors.Is(err, connector.ErrRefusedByPeer) {
		t.Errorf("a stranger's lookup: %v, want refused by the gateway", err)
	}
	id, err := identity.Generate()
	if err != nil {
		t.Fatal(err)
	}
	nkey, err := membership.UserKey(id.NodeID())
	if err != nil {
		t.Fatal(err)
	}
	cred, err := os.ReadFile(acct.issue(t, dir, "member", nkey, nil))
	if err != nil {
		t.Fatal(err)
	}
	if id, err = id.WithCredential(cred); err != nil {
		t.Fatal(err)
	}
	member := connectortest.StartAs(t, connector.Config{}, id, nil)
	if err := register(member); err != nil {
		t.Errorf("a member's registration: %v", err)
	}
	if err := lookup(member); err != nil {
		t.Errorf("a member's lookup of itself: %v", err)
	}
}
