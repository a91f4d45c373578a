package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// countingBudget is a Budget of limit bytes that remembers its peak.
type countingBudget struct {
	mu    sync.Mutex // guards every field below
	limit int
	used  int
	peak  int
}

func (b *countingBudget) Reserve(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	b.peak = max(b.peak, b.used)
	return true
}

func (b *countingBudget) Release(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
}

func (b *countingBudget) state() (used, peak int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used, b.peak
}

// announce returns a length prefix announcing size bytes, the version byte
// and have more bytes of a body.
func announce(size uint32, have int) []byte {
	b := binary.BigEndian.AppendUint32(nil, size)
	return append(append(b, Version), make([]byte, have)...)
}

func TestReaderGrowsBodyAsBytesArrive(t *testing.T) {
	pr, pw := io.Pipe()
	b := &countingBudget{limit: 1 << 30}
	r := NewReader(pr, DefaultMaxPayload)
	r.SetBudget(b)
	done := make(chan error, 1)
	go func() {
		var f Frame
		done <- r.ReadFrame(&f)
	}()
	// The frame announces 1 MiB; 1 KiB of it arrives, then the writer stops.
	if _, err := pw.Write(announce(1<<20, 1024)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for used, _ := b.state(); used == 0 && time.Now().Before(deadline); used, _ = b.state() {
		time.Sleep(time.Millisecond) // poll until the reader reserved its first chunk
	}
	if used, _ := b.state(); used != bodyChunk {
		t.Fatalf("a frame announcing 1 MiB with 1 KiB arrived holds %d bytes of budget, want %d", used, bodyChunk)
	}
	pw.Close()
	if err := <-done; err != io.ErrUnexpectedEOF {
		t.Fatalf("ReadFrame = %v, want io.ErrUnexpectedEOF", err)
	}
	if used, _ := b.state(); used != 0 {
		t.Fatalf("%d bytes of budget still held after ReadFrame returned", used)
	}
}

func TestReaderReservesWhatItAllocates(t *testing.T) {
	f := Frame{Kind: KindSend, ID: 1, Payload: bytes.Repeat([]byte{7}, 300<<10)}
	wire := encode(t, &f)
	b := &countingBudget{limit: 1 << 30}
	r := NewReader(&chunkReader{b: wire, n: 1000}, DefaultMaxPayload)
	r.SetBudget(b)
	var got Frame
	if err := r.ReadFrame(&got); err != nil {
		t.Fatal(err)
	}
	used, peak := b.state()
	if !bytes.Equal(got.Payload, f.Payload) || used != 0 || peak < len(wire)-lengthSize || peak > 2*len(wire) {
		t.Fatalf("payload intact %v, budget used %d, peak %d for a %d-byte body",
			bytes.Equal(got.Payload, f.Payload), used, peak, len(wire)-lengthSize)
	}
}

func TestReaderRefusesFrameOverBudget(t *testing.T) {
	tests := []struct {
		name  string
		limit int
	}{
		{"no budget at all", 0},
		{"first chunk only", bodyChunk},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := encode(t, &Frame{Kind: KindSend, ID: 1, Payload: make([]byte, 100<<10)})
			b := &countingBudget{limit: tt.limit}
			r := NewReader(&chunkReader{b: wire, n: 4096}, DefaultMaxPayload)
			r.SetBudget(b)
			var f Frame
			err := r.ReadFrame(&f)
			if used, _ := b.state(); !errors.Is(err, ErrNoBudget) || used != 0 {
				t.Fatalf("ReadFrame = %v with %d bytes of budget held, want ErrNoBudget and none", err, used)
			}
		})
	}
}

func TestReaderBufferedFrameNeedsNoBudget(t *testing.T) {
	wire := encode(t, &Frame{Kind: KindSend, ID: 1, Payload: []byte("small")})
	r := NewReader(bytes.NewReader(wire), DefaultMaxPayload)
	r.SetBudget(&countingBudget{})
	var f Frame
	if err := r.ReadFrame(&f); err != nil || string(f.Payload) != "small" {
		t.Fatalf("ReadFrame = %v, payload %q", err, f.Payload)
	}
}

func TestReaderFrameDeadline(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	r := NewReader(a, DefaultMaxPayload)
	r.SetFrameTimeout(50*time.Millisecond, a.SetReadDeadline)
	go b.Write(announce(1<<20, 10))
	var f Frame
	err := r.ReadFrame(&f)
	if !errors.Is(err, ErrFrameDeadline) {
		t.Fatalf("ReadFrame of a stalled frame = %v, want ErrFrameDeadline", err)
	}
}

func TestReaderFrameDeadlineSparesIdleStream(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	r := NewReader(a, DefaultMaxPayload)
	r.SetFrameTimeout(10*time.Millisecond, a.SetReadDeadline)
	wire := encode(t, &Frame{Kind: KindPing, ID: 1})
	go func() {
		time.Sleep(100 * time.Millisecond) // an idle stream: longer than the frame timeout
		b.Write(wire)
	}()
	var f Frame
	if err := r.ReadFrame(&f); err != nil || f.Kind != KindPing {
		t.Fatalf("ReadFrame after an idle pause = %v, %v; the frame timeout must start at a frame", err, f.Kind)
	}
}
