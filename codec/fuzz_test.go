package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
)

// fuzzSeeds returns frame bodies to start fuzzing from: one of each kind,
// frames from a newer writer, and malformed ones.
func fuzzSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	frames := append(sampleFrames(),
		Frame{Kind: KindRequest, Type: "svc", ID: 2, Timeout: maxTimeout, Headers: map[string][]string{"": {}, "k": {"", "v"}}},
		Frame{Kind: KindError, Code: 65535, Error: string(make([]byte, 300))},
	)
	for i := range frames {
		seeds = append(seeds, encode(t, &frames[i])[lengthSize:])
	}
	newer := envelope(t, 2, "t", 1, map[string][]string{"a": {"b"}}, 10, 0, "", []any{1, "x", map[string]any{"y": nil}}, time.Unix(5, 5), []byte{1})
	seeds = append(seeds,
		body(Version, newer, []byte("payload")),
		body(Version+1, newer, nil),
		body(Version, []byte{0x97, 1, 0xdb, 0x00, 0x0f, 0xff, 0xff, 0, 0x80, 0, 0, 0xa0}, nil),
		body(Version, []byte{0x98, 1, 0xa0, 0, 0x80, 0, 0, 0xa0, 0xc9, 0xff, 0xff, 0xff, 0xfb, 0x01}, nil),
		body(Version, []byte{0x97, 1, 0xa0, 0, 0x81, 0xa1, 'k', 0xdd, 0xff, 0xff, 0xff, 0xff, 0, 0, 0xa0}, nil),
		append(body(Version, bytes.Repeat([]byte{0x91}, 100), nil), 0),
		[]byte{Version, 0xff, 0xff, 0xff, 0xff, 0x0f},
		[]byte{Version},
		nil,
	)
	return seeds
}

// FuzzDecodeBody checks that DecodeBody never panics and that whatever it
// accepts survives re-encoding unchanged.
func FuzzDecodeBody(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var first Frame
		if err := DecodeBody(b, &first); err != nil {
			checkDecodeError(t, err)
			return
		}
		again := roundTrip(t, &first)
		if !sameFrame(&again, &first) {
			t.Fatalf("re-encoded frame decodes as %+v, want %+v", again, first)
		}
	})
}

// roundTrip re-encodes a decoded frame, which must succeed, and decodes it.
func roundTrip(t *testing.T, f *Frame) Frame {
	t.Helper()
	b, err := AppendFrame(nil, f, len(f.Payload))
	if err != nil {
		t.Fatalf("re-encoding a decoded frame: %v", err)
	}
	var again Frame
	if err := DecodeBody(b[lengthSize:], &again); err != nil {
		t.Fatalf("decoding a re-encoded frame: %v", err)
	}
	return again
}

// checkDecodeError fails unless err is one of the errors DecodeBody documents.
func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownVersion) && !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("undocumented error: %v", err)
	}
}

// chunkReader returns at most n bytes a read, like stream data arriving in
// pieces.
type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.b)
	r.b = r.b[n:]
	return n, nil
}

// readAll reads frames until the reader fails with something other than a
// bad frame, and returns them with the errors seen.
func readAll(t *testing.T, r *Reader) ([]Frame, []error) {
	var frames []Frame
	var errs []error
	for {
		var f Frame
		err := r.ReadFrame(&f)
		errs = append(errs, err)
		switch {
		case err == nil:
			frames = append(frames, f)
		case err == io.EOF, err == io.ErrUnexpectedEOF, errors.Is(err, ErrFrameTooLarge) && !isPayloadError(err):
			return frames, errs
		default:
			checkDecodeError(t, err)
		}
	}
}

func isPayloadError(err error) bool {
	var se *SizeError
	return errors.As(err, &se) && se.What != "frame"
}

// FuzzReader feeds a byte stream to a Reader whole and in chunks of a
// fuzzed size: the reader must never panic, must respect its limit, and must
// see the same frames and errors however the stream is split.
func FuzzReader(f *testing.F) {
	const limit = 4 << 10
	var stream []byte
	for _, seed := range fuzzSeeds(f) {
		framed := binary.BigEndian.AppendUint32(nil, uint32(len(seed)))
		framed = append(framed, seed...)
		f.Add(framed, uint8(1))
		stream = append(stream, framed...)
	}
	f.Add(stream, uint8(3))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, Version}, uint8(2))
	f.Add(append(binary.BigEndian.AppendUint32(nil, uint32(MaxFrameSize(limit))), Version), uint8(7))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, Version}, uint8(0))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		whole, wholeErrs := readAll(t, NewReader(bytes.NewReader(stream), limit))
		pieces, pieceErrs := readAll(t, NewReader(&chunkReader{b: stream, n: int(chunk) + 1}, limit))
		if len(whole) != len(pieces) || len(wholeErrs) != len(pieceErrs) {
			t.Fatalf("whole stream gave %d frames and %d errors, in chunks of %d %d and %d",
				len(whole), len(wholeErrs), int(chunk)+1, len(pieces), len(pieceErrs))
		}
		for i := range whole {
			if !sameFrame(&whole[i], &pieces[i]) {
				t.Fatalf("frame %d: whole %+v, in chunks %+v", i, whole[i], pieces[i])
			}
			if len(whole[i].Payload) > limit {
				t.Fatalf("frame %d: payload of %d bytes over the limit of %d", i, len(whole[i].Payload), limit)
			}
			again := roundTrip(t, &whole[i])
			if !sameFrame(&again, &whole[i]) {
				t.Fatalf("frame %d: re-encoded frame decodes as %+v, want %+v", i, again, whole[i])
			}
		}
		for i := range wholeErrs {
			if (wholeErrs[i] == nil) != (pieceErrs[i] == nil) || wholeErrs[i] != nil && wholeErrs[i].Error() != pieceErrs[i].Error() {
				t.Fatalf("read %d: whole %v, in chunks %v", i, wholeErrs[i], pieceErrs[i])
			}
		}
		checkBudget(t, stream, int(chunk)+1, limit, whole)
	})
}

// checkBudget reads stream in chunks of n bytes with a small budget: the
// reader must stay within it, give all of it back after every frame, and
// read the frames it has budget for as they are.
func checkBudget(t *testing.T, stream []byte, n, limit int, want []Frame) {
	b := &countingBudget{limit: bodyChunk}
	r := NewReader(&chunkReader{b: stream, n: n}, limit)
	r.SetBudget(b)
	for i, j := 0, 0; ; i++ {
		var f Frame
		err := r.ReadFrame(&f)
		if used, peak := b.state(); used != 0 || peak > b.limit {
			t.Fatalf("read %d: budget holds %d after ReadFrame, peak %d of %d", i, used, peak, b.limit)
		}
		if err == nil && (j >= len(want) || !sameFrame(&f, &want[j])) {
			t.Fatalf("frame %d with a budget: %+v, without: %+v", j, f, want[min(j, len(want)-1)])
		}
		if err == nil {
			j++
		}
		if err != nil && (errors.Is(err, ErrNoBudget) || err == io.EOF || err == io.ErrUnexpectedEOF || !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownVersion) && !isPayloadError(err)) {
			return
		}
	}
}
