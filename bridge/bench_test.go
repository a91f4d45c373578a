package bridge

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/codec"
	"github.com/peerbridge/peerbridge/connector"
)

// benchWindow is how many messages BenchmarkForward128 publishes ahead of
// the subscriber at most; larger messages stay within 4 MiB ahead.
const benchWindow = 1024

// BenchmarkForward128: fire-and-forget 128 B messages from a NATS client on
// one node, through both bridges, to a subscriber on the other, at most
// benchWindow ahead. Allocations are the whole process's: both NATS
// servers and their clients too.
func BenchmarkForward128(b *testing.B) { benchForward(b, 128) }

// BenchmarkForward64K is BenchmarkForward128 with 64 KiB messages.
func BenchmarkForward64K(b *testing.B) { benchForward(b, 64<<10) }

func benchForward(b *testing.B, size int) {
	a, z := startNode(b, Config{}), startNode(b, Config{})
	var got atomic.Int64
	arrived := make(chan struct{}, 1) // a wake-up left for the publisher
	if _, err := z.nc.Subscribe(DefaultPrefix+".recv.bench", func(*nats.Msg) {
		got.Add(1)
		select {
		case arrived <- struct{}{}:
		default:
		}
	}); err != nil {
		b.Fatal(err)
	}
	flush(b, z.nc)
	msg := &nats.Msg{Subject: DefaultPrefix + ".send.bench", Header: to(z), Data: make([]byte, size)}
	publish := func() {
		if err := a.nc.PublishMsg(msg); err != nil {
			b.Fatal(err)
		}
	}
	sent := int64(1)
	publish() // dials
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for sent-got.Load() >= int64(min(benchWindow, (4<<20)/size)) {
			<-arrived
		}
		publish()
		sent++
	}
	for got.Load() < sent {
		<-arrived
	}
}

// BenchmarkServePeer128: one 128 B message from a peer published on NATS,
// the bridge's share of the receiving side.
func BenchmarkServePeer128(b *testing.B) {
	n := startNode(b, Config{})
	m := &connector.Message{From: n.conn.NodeID(), Kind: codec.KindSend, Type: "bench", Payload: make([]byte, 128)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := n.bridge.ServePeer(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRequest128: one 128 B request at a time from a NATS client on
// one node, through both bridges, to a service on the other, and back.
func BenchmarkRequest128(b *testing.B) {
	a, z := startNode(b, Config{}), startNode(b, Config{})
	serve(b, z.nc, DefaultPrefix+".recv.bench", echo)
	msg := &nats.Msg{Subject: DefaultPrefix + ".request.bench", Header: to(z), Data: make([]byte, 128)}
	request(b, a.nc, msg.Subject, msg.Header, msg.Data) // dials
	b.ReportAllocs()
	for b.Loop() {
		if m := request(b, a.nc, msg.Subject, msg.Header, msg.Data); errCode(m) != "" {
			b.Fatalf("error %s", errCode(m))
		}
	}
}
