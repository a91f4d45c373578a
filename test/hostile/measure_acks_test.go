//go:build measure

package hostile

// Figures for issue 18 row 1, run on main and on the fix the same way:
//
//	go test -tags measure -count=1 -run '^TestMeasureNoAcks$' -v ./test/hostile/
//	go test -tags measure -count=1 -run '^TestMeasureNoAcksBridge$' -v ./test/hostile/
//
// It uses only the API that main has, and logs rather than asserts.

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
)

// TestMeasureNoAcks: a peer reads every frame and never acknowledges; the
// victim's app sends 60,000 messages of 1 KiB with a 500 ms timeout, each
// send's callback holding its payload as the bridge's does.
func TestMeasureNoAcks(t *testing.T) {
	const n, size = 60000, 1024
	victim := startConnector(t, "127.0.0.1", connector.Config{}, nil)
	qc, id := neverAcker(t, victim)
	ctx := testCtx(t)
	heap0 := heapInuse()
	var called, busy, timeouts, other atomic.Int64
	for range n {
		payload := make([]byte, size)
		o := connector.Outbound{Target: connector.Target{NodeID: id}, Type: "t", Payload: payload, Timeout: 500 * time.Millisecond}
		victim.SendAsync(ctx, o, func(r connector.Result) {
			_ = payload[0] // held until called, as the bridge holds its NATS message
			called.Add(1)
			switch {
			case errors.Is(r.Err, connector.ErrBusy):
				busy.Add(1)
			case errors.Is(r.Err, connector.ErrTimeout):
				timeouts.Add(1)
			case r.Err != nil:
				other.Add(1)
			}
		})
	}
	sent := time.Now()
	time.Sleep(settle) // a measurement: the sends time out meanwhile
	t.Logf("no acks: %d sends of %d B: heap +%s %v after the last send; callbacks called %d (busy %d, timeout %d, other errors %d); attacker connection open %v; stats %+v",
		n, size, mib(heapInuse()-heap0), settle, called.Load(), busy.Load(), timeouts.Load(), other.Load(), qc.Context().Err() == nil, victim.Stats())
	select {
	case <-qc.Context().Done():
		t.Logf("no acks: the victim closed the attacker's connection %v after the last send (%v); heap +%s; stats %+v",
			time.Since(sent).Round(time.Millisecond), context.Cause(qc.Context()), mib(heapInuse()-heap0), victim.Stats())
	case <-time.After(40 * time.Second):
		t.Logf("no acks: the attacker's connection is still open 40 s after the last send")
	}
}

// TestMeasureNoAcksBridge: the same peer, sent 60,000 messages of 1 KiB
// through a whole daemon by a local NATS client, as fast as it publishes.
func TestMeasureNoAcksBridge(t *testing.T) {
	const n, size = 60000, 1024
	victim, nc := startBridge(t)
	qc, id := neverAcker(t, victim)
	heap0 := heapInuse()
	h := nats.Header{bridge.HeaderNode: {id.String()}}
	for range n {
		if err := nc.PublishMsg(&nats.Msg{Subject: "peer.send.t", Header: h, Data: make([]byte, size)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	time.Sleep(settle) // a measurement: the bridge works through them meanwhile
	t.Logf("no acks, bridge: %d messages of %d B: heap +%s %v after the last; attacker connection open %v; stats %+v",
		n, size, mib(heapInuse()-heap0), settle, qc.Context().Err() == nil, victim.Stats())
	select {
	case <-qc.Context().Done():
	case <-time.After(bridge.DefaultTimeout):
		t.Logf("no acks, bridge: heap +%s %v after the last message, the send timeout passed; attacker connection open %v; stats %+v",
			mib(heapInuse()-heap0), time.Since(sent).Round(time.Second), qc.Context().Err() == nil, victim.Stats())
	}
	select {
	case <-qc.Context().Done():
		t.Logf("no acks, bridge: the victim closed the attacker's connection %v after the last message (%v); heap +%s",
			time.Since(sent).Round(time.Millisecond), context.Cause(qc.Context()), mib(heapInuse()-heap0))
	case <-time.After(40 * time.Second):
		t.Logf("no acks, bridge: the attacker's connection is still open 40 s after the last message; heap +%s", mib(heapInuse()-heap0))
	}
}
