package hostile

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/modules"
)

// replyWait bounds every wait in the reply tests.
const replyWait = 10 * time.Second

// replyVictim is a bridge, composed as 'peerbridge run' composes it, with a
// NATS client of the test's own: the side whose users request from a
// hostile peer.
type replyVictim struct {
	conn *connector.Connector
	nc   *nats.Conn
	reg  *prometheus.Registry
}

// startDaemon starts a bridge daemon of cfg on loopback, as 'peerbridge
// run' composes it, stopped at the end of the test, and fills targets as
// fx.Populate does.
func startDaemon(t *testing.T, cfg modules.Config, targets ...any) {
	t.Helper()
	cfg.KeyFile, cfg.Listen = filepath.Join(t.TempDir(), "victim.key"), "127.0.0.1:0"
	cfg.NATS.Listen = "127.0.0.1:0"
	app := fx.New(fx.NopLogger, fx.Supply(slog.New(slog.DiscardHandler)), modules.Daemon(cfg), fx.Populate(targets...))
	ctx, cancel := context.WithTimeout(t.Context(), replyWait)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatalf("starting the victim bridge: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), replyWait)
		defer cancel()
		if err := app.Stop(ctx); err != nil {
			t.Errorf("stopping the victim bridge: %v", err)
		}
	})
}

func replyStartVictim(t *testing.T) *replyVictim {
	t.Helper()
	v := &replyVictim{}
	var ns *modules.NATS
	startDaemon(t, modules.Config{}, &v.conn, &ns, &v.reg)
	nc, err := nats.Connect(ns.ClientURL)
	if err != nil {
		t.Fatalf("connecting to the victim's NATS: %v", err)
	}
	t.Cleanup(nc.Close)
	v.nc = nc
	return v
}

// replyStartPeer runs a peer with a fresh key whose every answer is h's.
func replyStartPeer(t *testing.T, h connector.HandlerFunc) *connector.Connector {
	if h == nil {
		return connectortest.Start(t, connector.Config{}, nil)
	}
	return connectortest.Start(t, connector.Config{}, h)
}

// replyAsk sends a request through the victim's bridge to peer and returns
// what the requester got. No answer at all fails the test: silence is the
// bug these tests guard against.
func (v *replyVictim) replyAsk(t *testing.T, verb string, peer *connector.Connector) *nats.Msg {
	t.Helper()
	h := nats.Header{}
	h.Set(bridge.HeaderNode, peer.NodeID().String())
	h.Set(bridge.HeaderEndpoint, peer.Addr().String())
	ctx, cancel := context.WithTimeout(t.Context(), replyWait)
	defer cancel()
	m, err := v.nc.RequestMsgWithContext(ctx, &nats.Msg{Subject: "peer." + verb + ".hostile", Header: h, Data: []byte("hi")})
	if err != nil {
		t.Fatalf("%s to a hostile peer got no answer: %v", verb, err)
	}
	return m
}

// A peer's reply whose headers NATS cannot encode reaches the requester as
// a 502 naming the peer, never as silence.
func TestReplyHeadersNATSCannotCarry(t *testing.T) {
	v := replyStartVictim(t)
	for _, name := range []string{"Bad Name", "a:b", "", "tab\there", "new\nline"} {
		t.Run(name, func(t *testing.T) {
			peer := replyStartPeer(t, func(context.Context, *connector.Message) (*connector.Response, error) {
				return &connector.Response{Headers: map[string][]string{name: {"x"}, "Fine": {"y"}}, Payload: []byte("reply")}, nil
			})
			m := v.replyAsk(t, "request", peer)
			if got := m.Header.Get(bridge.HeaderErrorCode); got != "502" {
				t.Errorf("error code %q, want 502 (headers %v)", got, m.Header)
			}
			if got := m.Header.Get(bridge.HeaderFrom); got != peer.NodeID().String() {
				t.Errorf("Peer-From %q, want the peer %s", got, peer.NodeID())
			}
			if m.Header.Get(bridge.HeaderError) == "" {
				t.Error("no error text says what went wrong")
			}
		})
	}
}

// An error code from a peer outside 400-999 is replaced by 502; a valid one
// passes through. (Codes the wire cannot carry, negative or over 65535, are
// refused by the decoder and fuzzed in codec.)
func TestReplyErrorCodesOutOfRange(t *testing.T) {
	v := replyStartVictim(t)
	cases := []struct {
		code int
		want string
	}{
		{0, "502"}, {200, "502"}, {399, "502"}, {1000, "502"}, {65535, "502"}, {-5, "500"}, {1 << 20, "500"},
		{422, "422"}, {400, "400"}, {999, "999"},
	}
	for _, verb := range []string{"request", "send"} {
		for _, tc := range cases {
			peer := replyStartPeer(t, func(context.Context, *connector.Message) (*connector.Response, error) {
				return nil, &connector.RemoteError{Code: tc.code, Text: "hostile"}
			})
			m := v.replyAsk(t, verb, peer)
			if got := m.Header.Get(bridge.HeaderErrorCode); got != tc.want {
				t.Errorf("%s: peer's code %d reached the requester as %q, want %s", verb, tc.code, got, tc.want)
			}
		}
	}
}

// The connector itself never hands its caller an out-of-range code.
func TestReplyRemoteErrorCodeClamped(t *testing.T) {
	peer := replyStartPeer(t, func(context.Context, *connector.Message) (*connector.Response, error) {
		return nil, &connector.RemoteError{Code: 200, Text: "ok?"}
	})
	me := replyStartPeer(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), replyWait)
	defer cancel()
	_, err := me.Request(ctx, connector.Outbound{Target: connector.Target{NodeID: peer.NodeID(), Endpoint: peer.Addr().String()}, Type: "x"})
	var re *connector.RemoteError
	if !errors.As(err, &re) || re.Code != connector.CodeBadGateway {
		t.Fatalf("request answered with code 200 gave %v, want a RemoteError with code 502", err)
	}
}

// A peer answering with 600 different error codes, every one of 400-999,
// grows peerbridge_errors_total by at most the codes bridges answer with
// themselves plus "other": label values never come from a peer.
func TestReplyErrorCodesDoNotGrowMetrics(t *testing.T) {
	v := replyStartVictim(t)
	var next atomic.Int32
	next.Store(399)
	peer := replyStartPeer(t, func(context.Context, *connector.Message) (*connector.Response, error) {
		return nil, &connector.RemoteError{Code: int(next.Add(1)), Text: "hostile"}
	})
	for range 600 {
		v.replyAsk(t, "request", peer)
	}
	series := 0
	mfs, err := v.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "peerbridge_errors_total" {
			series = len(mf.GetMetric())
		}
	}
	t.Logf("600 distinct error codes from a peer: %d series of peerbridge_errors_total", series)
	if series == 0 || series > 10 {
		t.Errorf("%d series of peerbridge_errors_total, want 1 to 10 (the known codes and other)", series)
	}
}
