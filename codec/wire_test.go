package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// encode returns the wire form of f, length prefix included.
func encode(t testing.TB, f *Frame) []byte {
	t.Helper()
	b, err := AppendFrame(nil, f, DefaultMaxPayload)
	if err != nil {
		t.Fatalf("AppendFrame: %v", err)
	}
	return b
}

// decode parses the wire form of a frame, length prefix included.
func decode(t testing.TB, b []byte) Frame {
	t.Helper()
	var f Frame
	if err := DecodeBody(b[lengthSize:], &f); err != nil {
		t.Fatalf("DecodeBody: %v", err)
	}
	return f
}

// sameFrame reports whether a and b carry the same thing on the wire: the
// wire does not tell nil from empty for headers, header values or payloads.
func sameFrame(a, b *Frame) bool {
	return a.Kind == b.Kind && a.Type == b.Type && a.ID == b.ID &&
		a.Timeout == b.Timeout && a.Code == b.Code && a.Error == b.Error &&
		bytes.Equal(a.Payload, b.Payload) && sameHeaders(a.Headers, b.Headers)
}

func sameHeaders(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok || !slices.Equal(va, vb) {
			return false
		}
	}
	return true
}

// body builds a frame body around a raw envelope, with the minimal uvarint
// for the envelope length a different writer might use.
func body(version byte, env, payload []byte) []byte {
	b := []byte{version}
	b = binary.AppendUvarint(b, uint64(len(env)))
	b = append(b, env...)
	return append(b, payload...)
}

// prefixed puts a length prefix before a frame body.
func prefixed(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// envelope marshals fields as a msgpack array, like a writer of this or a
// newer version would.
func envelope(t testing.TB, fields ...any) []byte {
	t.Helper()
	b, err := msgpack.Marshal(fields)
	if err != nil {
		t.Fatalf("msgpack.Marshal: %v", err)
	}
	return b
}

// sampleFrames has one frame of each kind, every field in use somewhere.
func sampleFrames() []Frame {
	return []Frame{
		{Kind: KindSend, Type: "dht_store", ID: 1, Payload: []byte("hello")},
		{
			Kind: KindRequest, Type: "service.calculator.add", ID: 42, Timeout: 1500 * time.Millisecond,
			Headers: map[string][]string{"Trace-Id": {"abc"}, "Accept": {"json", "msgpack", "json"}},
			Payload: []byte{0, 1, 2, 3},
		},
		{Kind: KindReply, ID: 42, Payload: bytes.Repeat([]byte{0xAB}, 1000)},
		{Kind: KindError, ID: 42, Code: 503, Error: "service unavailable"},
		{Kind: KindAck, ID: math.MaxUint64},
		{Kind: KindPing, ID: 7},
		{Kind: KindControl, Type: "nat.punch", Payload: []byte{1}},
		{Kind: 255, Type: "control.last"},
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		frame Frame
	}{
		{"send", Frame{Kind: KindSend, Type: "dht_store", ID: 1, Payload: []byte("hello")}},
		{"request with timeout and headers", Frame{
			Kind: KindRequest, Type: "service.calculator.add", ID: 42, Timeout: 1500 * time.Millisecond,
			Headers: map[string][]string{"Trace-Id": {"abc"}, "Accept": {"json", "msgpack", "json"}},
			Payload: []byte(`{"a":1,"b":2}`),
		}},
		{"request with largest timeout", Frame{Kind: KindRequest, Type: "slow", ID: 3, Timeout: maxTimeout}},
		{"reply", Frame{Kind: KindReply, ID: 42, Payload: []byte{3}}},
		{"error", Frame{Kind: KindError, ID: 42, Code: 503, Error: "service unavailable"}},
		{"error with largest code", Frame{Kind: KindError, ID: 1, Code: 65535, Error: "x"}},
		{"ack", Frame{Kind: KindAck, ID: math.MaxUint64}},
		{"ping", Frame{Kind: KindPing, ID: 7}},
		{"control", Frame{Kind: KindControl, Type: "nat.punch", Payload: []byte{192, 0, 2, 1, 0x1f, 0x90}}},
		{"last control kind", Frame{Kind: 255, Type: "control.last"}},
		{"unknown kind below control", Frame{Kind: 9, Type: "future"}},
		{"zero frame", Frame{}},
		{"empty payload", Frame{Kind: KindSend, Type: "t", ID: 1, Payload: []byte{}}},
		{"binary payload", Frame{Kind: KindSend, Payload: []byte{0, 0xff, 0xc1, 0x91, 0x00}}},
		{"unicode type and header", Frame{Kind: KindSend, Type: "héllo.世界", Headers: map[string][]string{"ключ": {"значение"}}}},
		{"invalid utf-8 strings", Frame{Kind: KindError, Type: "\xff\xfe", Code: 400, Error: "\xc3\x28"}},
		{"empty header value list", Frame{Kind: KindSend, Headers: map[string][]string{"Empty": {}}}},
		{"empty header name and value", Frame{Kind: KindSend, Headers: map[string][]string{"": {""}}}},
		{"str16 type", Frame{Kind: KindSend, Type: strings.Repeat("t", 300)}},
		{"str32 error", Frame{Kind: KindError, Code: 500, Error: strings.Repeat("e", 1<<16-20)}},
		{"many headers", Frame{Kind: KindSend, Headers: manyHeaders(100)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := encode(t, &tt.frame)
			if got, want := binary.BigEndian.Uint32(b), uint32(len(b)-lengthSize); got != want {
				t.Fatalf("length prefix = %d, want %d", got, want)
			}
			got := decode(t, b)
			if !sameFrame(&got, &tt.frame) {
				t.Fatalf("decoded %+v, want %+v", got, tt.frame)
			}
		})
	}
}

func manyHeaders(n int) map[string][]string {
	h := make(map[string][]string, n)
	for i := range n {
		h[strings.Repeat("h", i+1)] = []string{strings.Repeat("v", i), "second"}
	}
	return h
}

func TestAppendFrameAppends(t *testing.T) {
	f := Frame{Kind: KindSend, Type: "t", Payload: []byte("p")}
	alone := encode(t, &f)
	b, err := AppendFrame([]byte("before"), &f, DefaultMaxPayload)
	if err != nil {
		t.Fatalf("AppendFrame: %v", err)
	}
	if !bytes.Equal(b, append([]byte("before"), alone...)) {
		t.Fatalf("AppendFrame after other bytes = %x, want %q followed by %x", b, "before", alone)
	}
}

func TestNilAndEmptyAreTheSameOnTheWire(t *testing.T) {
	tests := []struct {
		name       string
		nil, empty Frame
	}{
		{"headers", Frame{Kind: KindSend, Headers: nil}, Frame{Kind: KindSend, Headers: map[string][]string{}}},
		{"payload", Frame{Kind: KindSend, Payload: nil}, Frame{Kind: KindSend, Payload: []byte{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := encode(t, &tt.nil), encode(t, &tt.empty)
			if !bytes.Equal(a, b) {
				t.Fatalf("nil encodes as %x, empty as %x", a, b)
			}
			got := decode(t, b)
			if got.Headers != nil || got.Payload != nil {
				t.Fatalf("decoded headers %#v, payload %#v; want both nil", got.Headers, got.Payload)
			}
		})
	}
}

func TestAppendFramePayloadAtLimit(t *testing.T) {
	tests := []struct {
		name  string
		limit int
	}{
		{"zero", 0},
		{"one", 1},
		{"16 KiB, the reader's buffer", 16 << 10},
		{"default", DefaultMaxPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Frame{Kind: KindReply, ID: 1, Payload: bytes.Repeat([]byte{'x'}, tt.limit)}
			b, err := AppendFrame(nil, &f, tt.limit)
			if err != nil {
				t.Fatalf("AppendFrame with payload at limit %d: %v", tt.limit, err)
			}
			var got Frame
			if err := NewReader(bytes.NewReader(b), tt.limit).ReadFrame(&got); err != nil {
				t.Fatalf("ReadFrame with payload at limit %d: %v", tt.limit, err)
			}
			if !sameFrame(&got, &f) {
				t.Fatalf("decoded a different frame (payload %d bytes, want %d)", len(got.Payload), len(f.Payload))
			}
		})
	}
}

func TestAppendFramePayloadOverLimit(t *testing.T) {
	tests := []struct {
		name  string
		limit int
	}{
		{"zero", 0},
		{"one", 1},
		{"default", DefaultMaxPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Frame{Kind: KindSend, Payload: make([]byte, tt.limit+1)}
			dst := []byte("keep")
			b, err := AppendFrame(dst, &f, tt.limit)
			if !errors.Is(err, ErrFrameTooLarge) {
				t.Fatalf("AppendFrame error %v, want ErrFrameTooLarge", err)
			}
			var se *SizeError
			if !errors.As(err, &se) {
				t.Fatalf("AppendFrame error %T, want *SizeError", err)
			}
			if want := (SizeError{What: "payload", Size: tt.limit + 1, Limit: tt.limit}); *se != want {
				t.Fatalf("SizeError = %+v, want %+v", *se, want)
			}
			if string(b) != "keep" {
				t.Fatalf("AppendFrame returned %q on error, want dst unchanged", b)
			}
		})
	}
}

// envelopeAtLimit is a frame whose envelope takes exactly MaxEnvelope bytes:
// array header, kind, str16 header and type, then five one-byte fields.
func envelopeAtLimit(extra int) Frame {
	return Frame{Kind: KindSend, Type: strings.Repeat("t", MaxEnvelope-1-1-3-5+extra)}
}

func TestAppendFrameEnvelopeAtLimit(t *testing.T) {
	f := envelopeAtLimit(0)
	b := encode(t, &f)
	if got, want := len(b), lengthSize+1+3+MaxEnvelope; got != want {
		t.Fatalf("frame is %d bytes, want %d (envelope exactly MaxEnvelope)", got, want)
	}
	got := decode(t, b)
	if !sameFrame(&got, &f) {
		t.Fatal("frame with the largest envelope did not round trip")
	}
}

func TestAppendFrameEnvelopeOverLimit(t *testing.T) {
	tests := []struct {
		name  string
		frame Frame
	}{
		{"one byte over", envelopeAtLimit(1)},
		{"type", Frame{Kind: KindSend, Type: strings.Repeat("t", MaxEnvelope)}},
		{"header value", Frame{Kind: KindSend, Headers: map[string][]string{"Big": {strings.Repeat("v", MaxEnvelope)}}}},
		{"many header values", Frame{Kind: KindSend, Headers: map[string][]string{"Many": make([]string, MaxEnvelope)}}},
		{"error text", Frame{Kind: KindError, Code: 500, Error: strings.Repeat("e", MaxEnvelope)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AppendFrame([]byte("keep"), &tt.frame, DefaultMaxPayload)
			var se *SizeError
			if !errors.Is(err, ErrFrameTooLarge) || !errors.As(err, &se) {
				t.Fatalf("AppendFrame error %v, want a *SizeError matching ErrFrameTooLarge", err)
			}
			if se.What != "envelope" || se.Size <= MaxEnvelope || se.Limit != MaxEnvelope {
				t.Fatalf("SizeError = %+v, want an envelope over %d", *se, MaxEnvelope)
			}
			if string(b) != "keep" {
				t.Fatalf("AppendFrame returned %q on error, want dst unchanged", b)
			}
		})
	}
}

func TestAppendFrameRejectsFieldsReadersReject(t *testing.T) {
	tests := []struct {
		name  string
		frame Frame
	}{
		{"negative timeout", Frame{Kind: KindRequest, Timeout: -time.Millisecond}},
		{"timeout over a day", Frame{Kind: KindRequest, Timeout: maxTimeout + time.Millisecond}},
		{"negative code", Frame{Kind: KindError, Code: -1}},
		{"code over 65535", Frame{Kind: KindError, Code: 65536}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AppendFrame([]byte("keep"), &tt.frame, DefaultMaxPayload)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("AppendFrame error %v, want ErrMalformed", err)
			}
			if string(b) != "keep" {
				t.Fatalf("AppendFrame returned %q on error, want dst unchanged", b)
			}
		})
	}
}

func TestTimeoutTravelsInMilliseconds(t *testing.T) {
	tests := []struct {
		name      string
		sent, got time.Duration
	}{
		{"zero is the receiver's default", 0, 0},
		{"a nanosecond is not zero", time.Nanosecond, time.Millisecond},
		{"under a millisecond is not zero", 999 * time.Microsecond, time.Millisecond},
		{"a millisecond", time.Millisecond, time.Millisecond},
		{"fractions are truncated", 1999 * time.Microsecond, time.Millisecond},
		{"a day", maxTimeout, maxTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decode(t, encode(t, &Frame{Kind: KindRequest, Timeout: tt.sent}))
			if got.Timeout != tt.got {
				t.Fatalf("timeout %v arrived as %v, want %v", tt.sent, got.Timeout, tt.got)
			}
		})
	}
}

func TestReaderBackToBack(t *testing.T) {
	frames := sampleFrames()
	var stream []byte
	for i := range frames {
		stream = encodeTo(t, stream, &frames[i])
	}
	r := NewReader(bytes.NewReader(stream), DefaultMaxPayload)
	for i := range frames {
		var got Frame
		if err := r.ReadFrame(&got); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !sameFrame(&got, &frames[i]) {
			t.Fatalf("frame %d = %+v, want %+v", i, got, frames[i])
		}
	}
	var f Frame
	if err := r.ReadFrame(&f); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func encodeTo(t testing.TB, dst []byte, f *Frame) []byte {
	t.Helper()
	b, err := AppendFrame(dst, f, DefaultMaxPayload)
	if err != nil {
		t.Fatalf("AppendFrame: %v", err)
	}
	return b
}

// TestReaderReassembles feeds frames through readers that split the stream
// the way QUIC stream data can arrive: a byte at a time, in halves, with the
// end of stream on the last data.
func TestReaderReassembles(t *testing.T) {
	frames := append(sampleFrames(),
		Frame{Kind: KindReply, ID: 9, Payload: bytes.Repeat([]byte("larger than the 16 KiB buffer "), 2000)},
		Frame{Kind: KindSend, Headers: manyHeaders(50)},
	)
	var stream []byte
	for i := range frames {
		stream = encodeTo(t, stream, &frames[i])
	}
	tests := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"one byte at a time", iotest.OneByteReader},
		{"half of each read", iotest.HalfReader},
		{"EOF with the last data", iotest.DataErrReader},
		{"one byte at a time, EOF with the last data", func(r io.Reader) io.Reader { return iotest.DataErrReader(iotest.OneByteReader(r)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(tt.wrap(bytes.NewReader(stream)), DefaultMaxPayload)
			for i := range frames {
				var got Frame
				if err := r.ReadFrame(&got); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if !sameFrame(&got, &frames[i]) {
					t.Fatalf("frame %d differs (kind %v, %d payload bytes)", i, got.Kind, len(got.Payload))
				}
			}
			var f Frame
			if err := r.ReadFrame(&f); err != io.EOF {
				t.Fatalf("after the last frame: %v, want io.EOF", err)
			}
		})
	}
}

func TestReaderCleanEOF(t *testing.T) {
	tests := []struct {
		name   string
		stream []byte
		frames int
	}{
		{"empty stream", nil, 0},
		{"one frame", encode(t, &Frame{Kind: KindPing, ID: 1}), 1},
		{"two frames", append(encode(t, &Frame{Kind: KindPing, ID: 1}), encode(t, &Frame{Kind: KindAck, ID: 1})...), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tt.stream), DefaultMaxPayload)
			var f Frame
			for i := range tt.frames {
				if err := r.ReadFrame(&f); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
			}
			// io.EOF itself, not wrapped: callers compare with ==.
			if err := r.ReadFrame(&f); err != io.EOF {
				t.Fatalf("at a frame boundary: %v, want io.EOF", err)
			}
		})
	}
}

// TestReaderTruncatedFrame cuts a stream of valid frames at every length
// that ends inside a frame.
func TestReaderTruncatedFrame(t *testing.T) {
	frames := sampleFrames()
	for _, f := range frames {
		t.Run(f.Kind.String(), func(t *testing.T) {
			b := encode(t, &f)
			for n := 1; n < len(b); n++ {
				r := NewReader(bytes.NewReader(b[:n]), DefaultMaxPayload)
				var got Frame
				if err := r.ReadFrame(&got); err != io.ErrUnexpectedEOF {
					t.Fatalf("frame cut to %d of %d bytes: %v, want io.ErrUnexpectedEOF", n, len(b), err)
				}
			}
		})
	}
}

// TestDecodeBodyTruncated cuts the body of valid frames at every length
// that ends before the payload, as if the length prefix were wrong.
func TestDecodeBodyTruncated(t *testing.T) {
	frames := sampleFrames()
	for _, f := range frames {
		t.Run(f.Kind.String(), func(t *testing.T) {
			b := encode(t, &f)[lengthSize:]
			payloadAt := len(b) - len(f.Payload)
			for n := range payloadAt {
				var got Frame
				if err := DecodeBody(b[:n], &got); !errors.Is(err, ErrMalformed) {
					t.Fatalf("body cut to %d of %d bytes: %v, want ErrMalformed", n, len(b), err)
				}
			}
		})
	}
}

// TestDecodeBodyShortPayload cuts the payload: the body's length is the
// frame's, so a shorter body is a shorter payload, not an error.
func TestDecodeBodyShortPayload(t *testing.T) {
	f := Frame{Kind: KindReply, ID: 1, Payload: []byte("0123456789")}
	b := encode(t, &f)[lengthSize:]
	payloadAt := len(b) - len(f.Payload)
	for n := payloadAt; n <= len(b); n++ {
		var got Frame
		if err := DecodeBody(b[:n], &got); err != nil {
			t.Fatalf("body cut to %d of %d bytes: %v", n, len(b), err)
		}
		if want := f.Payload[:n-payloadAt]; !bytes.Equal(got.Payload, want) {
			t.Fatalf("body cut to %d bytes: payload %q, want %q", n, got.Payload, want)
		}
	}
}

// prefixOnlyReader yields a length prefix and then fails the test if asked
// for more: a reader that rejects the prefix must not read a body.
type prefixOnlyReader struct {
	t      testing.TB
	prefix []byte
}

func (r *prefixOnlyReader) Read(p []byte) (int, error) {
	if len(r.prefix) == 0 {
		r.t.Error("read past a length prefix that should have been rejected")
		return 0, errors.New("read past the length prefix")
	}
	n := copy(p, r.prefix)
	r.prefix = r.prefix[n:]
	return n, nil
}

func TestReaderRejectsHugeLengthBeforeReading(t *testing.T) {
	limit := MaxFrameSize(DefaultMaxPayload)
	tests := []struct {
		name string
		size uint32
	}{
		{"largest prefix", math.MaxUint32},
		{"negative as an int32", 1 << 31},
		{"one byte over the limit", uint32(limit) + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &prefixOnlyReader{t: t, prefix: binary.BigEndian.AppendUint32(nil, tt.size)}
			var f Frame
			err := NewReader(src, DefaultMaxPayload).ReadFrame(&f)
			var se *SizeError
			if !errors.Is(err, ErrFrameTooLarge) || !errors.As(err, &se) {
				t.Fatalf("ReadFrame: %v, want a *SizeError matching ErrFrameTooLarge", err)
			}
			if want := (SizeError{What: "frame", Size: int(min(uint64(tt.size), math.MaxInt)), Limit: limit}); *se != want {
				t.Fatalf("SizeError = %+v, want %+v", *se, want)
			}
		})
	}
}

// repeatReader yields b over and over.
type repeatReader struct {
	b   []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.b[r.off:])
		n += c
		r.off = (r.off + c) % len(r.b)
	}
	return n, nil
}

func TestReaderRejectsHugeLengthBeforeAllocating(t *testing.T) {
	r := NewReader(&repeatReader{b: []byte{0xff, 0xff, 0xff, 0xff}}, DefaultMaxPayload)
	var f Frame
	r.ReadFrame(&f) // fill the buffer
	// The error itself is the only allocation.
	if allocs := testing.AllocsPerRun(100, func() { r.ReadFrame(&f) }); allocs > 1 {
		t.Errorf("rejecting a huge length prefix takes %v allocations, want at most 1", allocs)
	}
	if n := allocatedBytes(100, func() { r.ReadFrame(&f) }); n > 100<<10 {
		t.Errorf("rejecting a huge length prefix 100 times allocated %d bytes", n)
	}
}

// allocatedBytes reports the bytes allocated by running fn runs times.
func allocatedBytes(runs int, fn func()) uint64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		fn()
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestReaderAcceptsLargestFrame(t *testing.T) {
	const limit = 1000
	f := envelopeAtLimit(0)
	f.Payload = make([]byte, limit)
	b, err := AppendFrame(nil, &f, limit)
	if err != nil {
		t.Fatalf("AppendFrame: %v", err)
	}
	if size := len(b) - lengthSize; size > MaxFrameSize(limit) {
		t.Fatalf("frame body of %d bytes is over MaxFrameSize(%d) = %d", size, limit, MaxFrameSize(limit))
	}
	var got Frame
	if err := NewReader(bytes.NewReader(b), limit).ReadFrame(&got); err != nil {
		t.Fatalf("ReadFrame: %v", err)
	}
}

func TestReaderRejectsPayloadOverLimit(t *testing.T) {
	const limit = 10
	b := encode(t, &Frame{Kind: KindSend, Payload: make([]byte, limit+1)})
	var f Frame
	err := NewReader(bytes.NewReader(b), limit).ReadFrame(&f)
	var se *SizeError
	if !errors.Is(err, ErrFrameTooLarge) || !errors.As(err, &se) {
		t.Fatalf("ReadFrame: %v, want a *SizeError matching ErrFrameTooLarge", err)
	}
	if want := (SizeError{What: "payload", Size: limit + 1, Limit: limit}); *se != want {
		t.Fatalf("SizeError = %+v, want %+v", *se, want)
	}
}

func TestMaxFrameSizeDoesNotOverflow(t *testing.T) {
	tests := []struct {
		name       string
		maxPayload int
	}{
		{"largest int", math.MaxInt},
		{"just over what a prefix describes", maxBody - MaxEnvelope - bodyOverhead + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaxFrameSize(tt.maxPayload); got != maxBody {
				t.Fatalf("MaxFrameSize(%d) = %d, want %d", tt.maxPayload, got, maxBody)
			}
		})
	}
}

func TestUnknownVersion(t *testing.T) {
	env := envelope(t, 1, "t", 0, nil, 0, 0, "")
	tests := []struct {
		name    string
		version byte
	}{
		{"zero", 0},
		{"next", Version + 1},
		{"largest", 255},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Frame
			if err := DecodeBody(body(tt.version, env, nil), &f); !errors.Is(err, ErrUnknownVersion) {
				t.Fatalf("DecodeBody: %v, want ErrUnknownVersion", err)
			}
		})
	}
}

// TestReaderSkipsBadFrame checks that a frame the reader cannot parse does
// not desynchronise the stream: the next frame still reads.
func TestReaderSkipsBadFrame(t *testing.T) {
	env := envelope(t, 1, "t", 0, nil, 0, 0, "")
	tests := []struct {
		name    string
		bad     []byte
		matches error
	}{
		{"unknown version", prefixed(body(Version+1, env, []byte("payload"))), ErrUnknownVersion},
		{"malformed envelope", prefixed(body(Version, []byte{0xc1}, nil)), ErrMalformed},
		{"empty body", prefixed(nil), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := Frame{Kind: KindPing, ID: 5}
			r := NewReader(bytes.NewReader(append(tt.bad, encode(t, &want)...)), DefaultMaxPayload)
			var f Frame
			if err := r.ReadFrame(&f); !errors.Is(err, tt.matches) {
				t.Fatalf("bad frame: %v, want %v", err, tt.matches)
			}
			if err := r.ReadFrame(&f); err != nil || !sameFrame(&f, &want) {
				t.Fatalf("frame after a bad one: %+v, %v; want %+v", f, err, want)
			}
		})
	}
}

// TestEnvelopeFromNewerWriter decodes envelopes with fields after the seven
// this version knows, of every msgpack type.
func TestEnvelopeFromNewerWriter(t *testing.T) {
	fields := []any{uint8(KindRequest), "svc.op", 9, map[string][]string{"K": {"v"}}, 250, 0, ""}
	want := Frame{Kind: KindRequest, Type: "svc.op", ID: 9, Headers: map[string][]string{"K": {"v"}}, Timeout: 250 * time.Millisecond}
	tests := []struct {
		name  string
		extra []any
	}{
		{"integer", []any{1}},
		{"negative integer", []any{-100000}},
		{"string", []any{"more"}},
		{"nil, bool and float", []any{nil, true, 1.5, float32(2.5)}},
		{"binary", []any{[]byte{1, 2, 3}}},
		{"array and map", []any{[]any{1, "a", []any{2}}, map[string]any{"x": map[string]any{"y": 1}}}},
		{"time extension", []any{time.Unix(1700000000, 5)}},
		{"many", []any{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Frame
			b := body(Version, envelope(t, append(fields, tt.extra...)...), []byte("payload"))
			if err := DecodeBody(b, &f); err != nil {
				t.Fatalf("DecodeBody: %v", err)
			}
			want.Payload = []byte("payload")
			if !sameFrame(&f, &want) {
				t.Fatalf("decoded %+v, want %+v", f, want)
			}
		})
	}
}

func TestEnvelopeFromNewerWriterDeeplyNested(t *testing.T) {
	env := envelope(t, 1, "t", 0, nil, 0, 0, "")
	env[0]++ // eight fields
	nested := bytes.Repeat([]byte{0x91}, MaxEnvelope-len(env)-1)
	env = append(append(env, nested...), 0x00)
	var f Frame
	if err := DecodeBody(body(Version, env, nil), &f); err != nil {
		t.Fatalf("DecodeBody with %d levels of nesting: %v", len(nested), err)
	}
}

// TestEnvelopeHugeClaims hands the decoder small envelopes whose maps,
// arrays and strings claim far more than the bytes there are.
func TestEnvelopeHugeClaims(t *testing.T) {
	tests := []struct {
		name string
		env  []byte
	}{
		{"envelope array", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 1, 0xa0, 0, 0x80, 0, 0, 0xa0}},
		{"envelope array of 16 bits", []byte{0xdc, 0xff, 0xff, 1, 0xa0, 0, 0x80, 0, 0, 0xa0}},
		{"headers map", []byte{0x97, 1, 0xa0, 0, 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'k', 0x90, 0, 0, 0xa0}},
		{"header values", []byte{0x97, 1, 0xa0, 0, 0x81, 0xa1, 'k', 0xdd, 0xff, 0xff, 0xff, 0xff, 0, 0, 0xa0}},
		{"headers map in an extension", []byte{0x97, 1, 0xa0, 0, 0xc7, 0x00, 0x01, 0xdf, 0xdf, 0xdf, 0xdf, 0xdf, 0, 0, 0xa0}},
		{"header values in an extension", []byte{0x97, 1, 0xa0, 0, 0x81, 0xa1, 'k', 0xd4, 0x01, 0xdd, 0xff, 0xff, 0xff, 0xff, 0, 0, 0xa0}},
		{"type string", []byte{0x97, 1, 0xdb, 0x00, 0x0f, 0xff, 0xff, 0, 0x80, 0, 0, 0xa0}},
		{"header name", []byte{0x97, 1, 0xa0, 0, 0x81, 0xdb, 0x7f, 0xff, 0xff, 0xff, 0x90, 0, 0, 0xa0}},
		{"header value", []byte{0x97, 1, 0xa0, 0, 0x81, 0xa1, 'k', 0x91, 0xc6, 0x00, 0x0f, 0xff, 0xff, 0, 0, 0xa0}},
		{"error text", []byte{0x97, 1, 0xa0, 0, 0x80, 0, 0, 0xda, 0xff, 0xff, 0, 0}},
		{"newer field string", []byte{0x98, 1, 0xa0, 0, 0x80, 0, 0, 0xa0, 0xdb, 0x00, 0x0f, 0xff, 0xff}},
		{"newer field array", []byte{0x98, 1, 0xa0, 0, 0x80, 0, 0, 0xa0, 0xdd, 0xff, 0xff, 0xff, 0xff}},
		{"newer field map", []byte{0x98, 1, 0xa0, 0, 0x80, 0, 0, 0xa0, 0xdf, 0x80, 0x00, 0x00, 0x00}},
		{"newer field extension", []byte{0x98, 1, 0xa0, 0, 0x80, 0, 0, 0xa0, 0xc9, 0xff, 0xff, 0xff, 0xfb, 0x01}},
		{"newer field binary", []byte{0x98, 1, 0xa0, 0, 0x80, 0, 0, 0xa0, 0xc6, 0x80, 0x00, 0x00, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Frame
			b := body(Version, tt.env, nil)
			if err := DecodeBody(b, &f); !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeBody: %v, want ErrMalformed", err)
			}
			if n := allocatedBytes(10, func() { DecodeBody(b, &f) }); n > 10*4<<10 {
				t.Fatalf("rejecting the envelope 10 times allocated %d bytes", n)
			}
		})
	}
}

func TestEnvelopeMalformed(t *testing.T) {
	tests := []struct {
		name string
		env  []byte
	}{
		{"not an array", envelope(t, 1)[1:]},
		{"nil", []byte{0xc0}},
		{"in an extension", append([]byte{0xd4, 0x01}, envelope(t, 1, "t", 0, nil, 0, 0, "")...)},
		{"headers in an extension", []byte{0x97, 1, 0xa0, 0, 0xd4, 0x01, 0x80, 0, 0, 0xa0}},
		{"six fields", envelope(t, 1, "t", 0, nil, 0, 0)},
		{"kind is a string", envelope(t, "send", "t", 0, nil, 0, 0, "")},
		{"kind over 255", envelope(t, 256, "t", 0, nil, 0, 0, "")},
		{"kind negative", envelope(t, -1, "t", 0, nil, 0, 0, "")},
		{"type is a number", envelope(t, 1, 5, 0, nil, 0, 0, "")},
		{"id is a string", envelope(t, 1, "t", "id", nil, 0, 0, "")},
		{"id is a float", envelope(t, 1, "t", 1.5, nil, 0, 0, "")},
		{"headers is an array", envelope(t, 1, "t", 0, []string{"a"}, 0, 0, "")},
		{"header name is a number", envelope(t, 1, "t", 0, map[int][]string{1: {"a"}}, 0, 0, "")},
		{"header values is a string", envelope(t, 1, "t", 0, map[string]string{"k": "v"}, 0, 0, "")},
		{"header value is a number", envelope(t, 1, "t", 0, map[string][]int{"k": {1}}, 0, 0, "")},
		{"timeout over a day", envelope(t, 2, "t", 0, nil, uint64(maxTimeout/time.Millisecond)+1, 0, "")},
		{"timeout negative", envelope(t, 2, "t", 0, nil, -1, 0, "")},
		{"code negative", envelope(t, 4, "t", 0, nil, 0, -1, "")},
		{"code over 65535", envelope(t, 4, "t", 0, nil, 0, 65536, "")},
		{"error text is a number", envelope(t, 4, "t", 0, nil, 0, 500, 1)},
		{"never-used code", append(envelope(t, 1, "t", 0, nil, 0, 0, "", 0)[:9], 0xc1)},
		{"bytes after the envelope", append(envelope(t, 1, "t", 0, nil, 0, 0, ""), 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Frame
			if err := DecodeBody(body(Version, tt.env, nil), &f); !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeBody(%x): %v, want ErrMalformed", tt.env, err)
			}
		})
	}
}

func TestDecodeBodyEnvelopeLength(t *testing.T) {
	env := envelope(t, 1, "t", 0, nil, 0, 0, "")
	tests := []struct {
		name    string
		body    []byte
		matches error
	}{
		{"empty body", nil, ErrMalformed},
		{"no length", []byte{Version}, ErrMalformed},
		{"unterminated length", []byte{Version, 0x80, 0x80}, ErrMalformed},
		{"length overflows", append([]byte{Version}, bytes.Repeat([]byte{0xff}, 11)...), ErrMalformed},
		{"length past the body", append([]byte{Version, byte(len(env) + 1)}, env...), ErrMalformed},
		{"length over MaxEnvelope", append(binary.AppendUvarint([]byte{Version}, MaxEnvelope+1), make([]byte, MaxEnvelope+1)...), ErrFrameTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Frame
			if err := DecodeBody(tt.body, &f); !errors.Is(err, tt.matches) {
				t.Fatalf("DecodeBody: %v, want %v", err, tt.matches)
			}
		})
	}
}

func TestDecodeBodyAcceptsAnyEnvelopeLengthEncoding(t *testing.T) {
	env := envelope(t, 1, "t", 3, nil, 0, 0, "")
	want := Frame{Kind: KindSend, Type: "t", ID: 3, Payload: []byte("p")}
	tests := []struct {
		name   string
		length []byte
	}{
		{"minimal", []byte{byte(len(env))}},
		{"three bytes, as written here", []byte{byte(len(env)) | 0x80, 0x80, 0}},
		{"five bytes", []byte{byte(len(env)) | 0x80, 0x80, 0x80, 0x80, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := append(append(append([]byte{Version}, tt.length...), env...), 'p')
			var f Frame
			if err := DecodeBody(b, &f); err != nil || !sameFrame(&f, &want) {
				t.Fatalf("DecodeBody = %+v, %v; want %+v", f, err, want)
			}
		})
	}
}

func TestDecodeBodyRepeatedHeaderNames(t *testing.T) {
	// A map with the same name twice, as a non-Go writer might send.
	env := []byte{0x97, 1, 0xa0, 0, 0x82,
		0xa1, 'k', 0x92, 0xa1, 'a', 0xa1, 'b',
		0xa1, 'k', 0x91, 0xa1, 'c',
		0, 0, 0xa0}
	var f Frame
	if err := DecodeBody(body(Version, env, nil), &f); err != nil {
		t.Fatalf("DecodeBody: %v", err)
	}
	if got, want := f.Headers["k"], []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Fatalf("header k = %q, want %q", got, want)
	}
}

func TestDecodeBodyResetsFrame(t *testing.T) {
	f := Frame{Kind: KindError, Type: "old", ID: 1, Headers: map[string][]string{"Old": {"x"}}, Timeout: time.Second, Code: 500, Error: "old", Payload: []byte("old")}
	want := Frame{Kind: KindPing, ID: 2}
	if err := DecodeBody(encode(t, &want)[lengthSize:], &f); err != nil {
		t.Fatalf("DecodeBody: %v", err)
	}
	if f.Headers != nil || f.Payload != nil || !sameFrame(&f, &want) {
		t.Fatalf("decoded into a used frame: %+v, want %+v", f, want)
	}
}

func TestReaderPayloadIsOwned(t *testing.T) {
	stream := append(encode(t, &Frame{Kind: KindSend, Payload: []byte("first")}), encode(t, &Frame{Kind: KindSend, Payload: []byte("other")})...)
	r := NewReader(bytes.NewReader(stream), DefaultMaxPayload)
	var a, b Frame
	if err := r.ReadFrame(&a); err != nil {
		t.Fatal(err)
	}
	if err := r.ReadFrame(&b); err != nil {
		t.Fatal(err)
	}
	if string(a.Payload) != "first" || string(b.Payload) != "other" {
		t.Fatalf("payloads %q and %q, want %q and %q", a.Payload, b.Payload, "first", "other")
	}
}

// TestReaderSkipRefused: a frame refused as too large can be skipped, and the
// frame after it is read as if nothing happened.
func TestReaderSkipRefused(t *testing.T) {
	big, err := AppendFrame(nil, &Frame{Kind: KindSend, ID: 1, Payload: make([]byte, 256<<10)}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	small, err := AppendFrame(nil, &Frame{Kind: KindSend, ID: 2, Payload: []byte("ok")}, 4096)
	if err != nil {
		t.Fatal(err)
	}
	stream := append(append([]byte{}, big...), small...)

	r := NewReader(bytes.NewReader(stream), 1024)
	if err := r.SkipRefused(1 << 20); err == nil {
		t.Fatal("SkipRefused with nothing refused succeeded")
	}
	var f Frame
	if err := r.ReadFrame(&f); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("big frame: %v, want ErrFrameTooLarge", err)
	}
	if err := r.SkipRefused(1 << 20); err != nil {
		t.Fatalf("SkipRefused: %v", err)
	}
	if err := r.ReadFrame(&f); err != nil || f.ID != 2 || string(f.Payload) != "ok" {
		t.Fatalf("frame after the skipped one: %+v, %v", f, err)
	}

	r = NewReader(bytes.NewReader(stream), 1024)
	if err := r.ReadFrame(&f); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("big frame: %v, want ErrFrameTooLarge", err)
	}
	if err := r.SkipRefused(100); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("SkipRefused over its limit: %v, want ErrFrameTooLarge", err)
	}
}
