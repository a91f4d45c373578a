package connector

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/net/ipv4"
)

// TestFilterKeepsQUICInOrder checks that the filter hands the non-QUIC
// packets of a batch to the handler and moves the QUIC ones, in order, to
// the front, leaving each message its own buffer.
func TestFilterKeepsQUICInOrder(t *testing.T) {
	in := [][]byte{{0x04, 1}, {0x40, 2}, {0x01, 3}, {}, {0xc0, 4}, {0x3f, 5}, {0x41, 6}}
	from := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 7}
	ms := make([]ipv4.Message, len(in))
	bufs := make([][]byte, len(in))
	for i, b := range in {
		bufs[i] = make([]byte, 16)
		ms[i] = ipv4.Message{Buffers: [][]byte{bufs[i]}, OOB: make([]byte, 8), N: copy(bufs[i], b), NN: 1, Addr: from}
		ms[i].OOB[0] = byte(i)
	}
	var handled [][]byte
	h := func(_ netip.AddrPort, b []byte) { handled = append(handled, slices.Clone(b)) }
	kept := (&filterConn{}).filter(h, ms)
	var got [][]byte
	for i := range kept {
		got = append(got, ms[i].Buffers[0][:ms[i].N])
		if &ms[i].Buffers[0][0] != &bufs[i][0] {
			t.Errorf("message %d lost its buffer", i)
		}
	}
	want, wantHandled := [][]byte{{0x40, 2}, {}, {0xc0, 4}, {0x41, 6}}, [][]byte{{0x04, 1}, {0x01, 3}, {0x3f, 5}}
	eq := func(a, b [][]byte) bool { return slices.EqualFunc(a, b, slices.Equal) }
	if !eq(got, want) || !eq(handled, wantHandled) {
		t.Fatalf("kept %x, handled %x; want %x and %x", got, handled, want, wantHandled)
	}
	if oob := []byte{ms[0].OOB[0], ms[1].OOB[0], ms[2].OOB[0], ms[3].OOB[0]}; !slices.Equal(oob, []byte{1, 3, 4, 6}) {
		t.Errorf("control messages %v moved wrong, want 1 3 4 6", oob)
	}
}

// TestNonQUICHandler sends a burst of non-QUIC packets, far more than
// quic-go's queue of 32, to a connector with a handler: every one reaches
// it, and QUIC on the same socket still works.
func TestNonQUICHandler(t *testing.T) {
	a, _ := startNode(t, Config{})
	b, _ := startNode(t, Config{})
	got := make(chan []byte, 1024)
	b.SetNonQUICHandler(func(_ netip.AddrPort, p []byte) { got <- slices.Clone(p) })
	u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	const burst = 1000
	for i := range burst {
		if _, err := u.WriteToUDPAddrPort([]byte{0x04, byte(i >> 8), byte(i)}, b.Addr()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := a.Request(ctx, Outbound{Target: targetOf(b), Type: "echo", Payload: []byte("ping")}); err != nil {
		t.Fatal(err)
	}
	for i := range burst {
		select {
		case p := <-got:
			if n := int(p[1])<<8 | int(p[2]); n != i {
				t.Fatalf("packet %d arrived as number %d", n, i)
			}
		case <-ctx.Done():
			t.Fatalf("%d of %d non-QUIC packets reached the handler", i, burst)
		}
	}
}
