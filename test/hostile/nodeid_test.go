package hostile

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/modules"
)

// startBridge runs a whole daemon on loopback, as 'peerbridge run' composes
// it, and returns its connector and a NATS client of its embedded server.
func startBridge(t *testing.T) (*connector.Connector, *nats.Conn) {
	t.Helper()
	cfg := modules.Config{KeyFile: filepath.Join(t.TempDir(), "node.key"), Listen: "127.0.0.1:0"}
	cfg.NATS.Listen = "127.0.0.1:0"
	var (
		conn *connector.Connector
		ns   *modules.NATS
	)
	app := fx.New(fx.NopLogger, fx.Supply(slog.New(slog.DiscardHandler)), modules.Daemon(cfg), fx.Populate(&conn, &ns))
	if err := app.Start(testCtx(t)); err != nil {
		t.Fatalf("starting daemon: %v", err)
	}
	t.Cleanup(func() {
		if err := app.Stop(context.WithoutCancel(testCtx(t))); err != nil {
			t.Errorf("stopping daemon: %v", err)
		}
	})
	nc, err := nats.Connect(ns.ClientURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return conn, nc
}

// respellings returns the other spellings of id that base32 decoding
// accepts: the last character with its unused low bits set.
func respellings(id identity.NodeID) []string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	s := string(id)
	last := strings.IndexByte(alphabet, s[len(s)-1])
	var out []string
	for low := 1; low < 16; low++ { // 52 characters carry 260 bits; the key 256
		out = append(out, s[:len(s)-1]+string(alphabet[last|low]))
	}
	return out
}

// TestAttackNodeIDSpellings is issue 9 point 8: one key, several spellings
// of its node ID. Only the canonical one reaches the node; the others are a
// bad request (400), not an identity mismatch or an unknown peer.
func TestAttackNodeIDSpellings(t *testing.T) {
	a, anc := startBridge(t)
	b, bnc := startBridge(t)
	a.AddAddress(b.NodeID(), b.Addr().String())
	sub, err := bnc.Subscribe("peer.recv.echo", func(m *nats.Msg) { m.Respond(m.Data) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() })
	if err := bnc.Flush(); err != nil {
		t.Fatal(err)
	}
	ask := func(node string) *nats.Msg {
		t.Helper()
		m, err := anc.RequestMsgWithContext(testCtx(t), &nats.Msg{Subject: "peer.request.echo",
			Header: nats.Header{bridge.HeaderNode: {node}, bridge.HeaderEndpoint: {b.Addr().String()}}, Data: []byte("hi")})
		if err != nil {
			t.Fatalf("request to %s: %v", node, err)
		}
		return m
	}
	if m := ask(string(b.NodeID())); m.Header.Get(bridge.HeaderErrorCode) != "" || string(m.Data) != "hi" {
		t.Fatalf("request to the canonical ID: %q, headers %v", m.Data, m.Header)
	}
	for _, s := range respellings(b.NodeID()) {
		if code := ask(s).Header.Get(bridge.HeaderErrorCode); code != "400" {
			t.Errorf("request to the respelling %s: error code %q, want 400", s, code)
		}
	}
}
