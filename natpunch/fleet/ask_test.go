package fleet_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/natpunch/fleet"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
)

// connect opens a NATS connection to ns, closed when the test ends.
func connect(t *testing.T, ns *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(ns.ClientURL(), fleet.ConnOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// staleGateway answers every ask on subject not-found, as a gateway whose
// subscription outlived its record does, and then says so on sent once
// the server has taken the answer: an answer sent after that reaches the
// asker after this one.
func staleGateway(t *testing.T, ns *server.Server, subject string, sent chan<- struct{}) {
	t.Helper()
	nc := connect(t, ns)
	_, err := nc.Subscribe(subject, func(m *nats.Msg) {
		r := nats.NewMsg(m.Reply)
		r.Header.Set("Nats-Service-Error", "gateway: node is not registered")
		r.Header.Set("Nats-Service-Error-Code", strconv.Itoa(connector.CodeNotFound))
		if nc.PublishMsg(r) == nil && nc.Flush() == nil {
			sent <- struct{}{}
		}
	})
	if err == nil {
		err = nc.Flush()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// holderGateway answers every ask on subject "found", once stale not-found
// answers have been taken by the server.
func holderGateway(t *testing.T, ns *server.Server, subject string, sent <-chan struct{}, stale int) {
	t.Helper()
	nc := connect(t, ns)
	ctx := t.Context()
	_, err := nc.Subscribe(subject, func(m *nats.Msg) {
		for range stale {
			select {
			case <-sent:
			case <-ctx.Done():
				return
			}
		}
		_ = m.Respond([]byte("found"))
	})
	if err == nil {
		err = nc.Flush()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// codeOf is the code of a gateway's refusal, 0 for none.
func codeOf(err error) int {
	var re *connector.RemoteError
	if errors.As(err, &re) {
		return re.Code
	}
	return 0
}

// TestAskPassesOverStaleNotFound: an ask whose first answer is a stale
// gateway's not-found takes a holder's answer that comes after it; with
// no holder, or after more not-found answers than an ask counts (8), it
// answers not-found, within the stall time; with nobody subscribed it
// answers ErrNotInFleet.
func TestAskPassesOverStaleNotFound(t *testing.T) {
	ns := natpunchtest.StartNATS(t)
	const stall = 300 * time.Millisecond
	asker := fleet.New(connect(t, ns), fleet.Config{GatherStall: stall}, nil)
	t.Cleanup(func() { asker.Close() })
	for _, tc := range []struct {
		name     string
		stale    int
		holders  int
		want     string
		wantCode int
	}{
		{"a holder after a stale gateway", 1, 1, "found", 0},
		{"a holder after three stale gateways", 3, 1, "found", 0},
		{"a stale gateway alone", 1, 0, "", connector.CodeNotFound},
		{"a holder after more stale gateways than counted", 8, 1, "", connector.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := nodeID(t)
			subject := fleet.DefaultPrefix + "." + string(node) + ".*"
			sent := make(chan struct{}, tc.stale) // every stale answer, counted whether a holder waits or not
			for range tc.stale {
				staleGateway(t, ns, subject, sent)
			}
			for range tc.holders {
				holderGateway(t, ns, subject, sent, tc.stale)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			start := time.Now()
			got, err := asker.Ask(ctx, node, "lookup", nil)
			took := time.Since(start)
			if string(got) != tc.want || codeOf(err) != tc.wantCode || ctx.Err() != nil {
				t.Fatalf("ask: %q, %v after %v; want %q, code %d", got, err, took, tc.want, tc.wantCode)
			}
			t.Logf("answered in %v", took)
		})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if _, err := asker.Ask(ctx, nodeID(t), "lookup", nil); !errors.Is(err, gateway.ErrNotInFleet) {
		t.Fatalf("ask about a node nobody holds: %v, want %v", err, gateway.ErrNotInFleet)
	}
}
