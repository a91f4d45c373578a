package codec

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

const (
	// DefaultMaxPayload is the default payload limit, NATS's default max_payload.
	DefaultMaxPayload = 1 << 20
	// MaxEnvelope is the largest envelope (type, headers, error text) accepted.
	MaxEnvelope = 64 << 10
	// lengthSize is the size of the length prefix.
	lengthSize = 4
	// maxBody is the largest body a length prefix can describe that also fits
	// in an int (on 32-bit platforms, 2 GiB - 1).
	maxBody = min(math.MaxUint32, math.MaxInt)
	// bodyOverhead is the most a frame body takes besides envelope and payload.
	bodyOverhead = 1 + binary.MaxVarintLen32
)

// MaxFrameSize is the largest frame body (the bytes after the length prefix)
// that can carry a payload of maxPayload bytes. It never exceeds what a
// length prefix can describe.
func MaxFrameSize(maxPayload int) int {
	if maxPayload > maxBody-bodyOverhead-MaxEnvelope {
		return maxBody
	}
	return bodyOverhead + MaxEnvelope + maxPayload
}

// AppendFrame appends the wire form of f, length prefix included, to dst. It
// fails with a *SizeError if the payload exceeds maxPayload, the envelope
// exceeds MaxEnvelope or the frame exceeds what a length prefix can describe,
// and with an error matching ErrMalformed if a field is out of the range a
// reader accepts (Timeout must be within [0, 24h], Code within [0, 65535]).
// A positive Timeout under a millisecond is sent as one millisecond. On
// failure dst is returned with its original length.
func AppendFrame(dst []byte, f *Frame, maxPayload int) ([]byte, error) {
	if len(f.Payload) > maxPayload {
		return dst, &SizeError{What: "payload", Size: len(f.Payload), Limit: maxPayload}
	}
	if err := checkEnvelope(f); err != nil {
		return dst, err
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, Version)
	// Reserve the envelope length as a fixed three-byte uvarint, which covers
	// MaxEnvelope, so the envelope is encoded in place with no copy.
	lenAt := len(dst)
	dst = append(dst, 0x80, 0x80, 0)
	dst, err := appendEnvelope(dst, f)
	if err != nil {
		return dst[:start], fmt.Errorf("codec: encoding envelope: %w", err)
	}
	envLen := len(dst) - lenAt - 3
	if envLen > MaxEnvelope {
		return dst[:start], &SizeError{What: "envelope", Size: envLen, Limit: MaxEnvelope}
	}
	if body := len(dst) - start - lengthSize + len(f.Payload); body > maxBody {
		return dst[:start], &SizeError{What: "frame", Size: body, Limit: maxBody}
	}
	putUvarint3(dst[lenAt:], uint32(envLen))
	dst = append(dst, f.Payload...)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-lengthSize))
	return dst, nil
}

// putUvarint3 writes v as a three-byte, non-minimal uvarint.
func putUvarint3(b []byte, v uint32) {
	b[0] = byte(v) | 0x80
	b[1] = byte(v>>7) | 0x80
	b[2] = byte(v >> 14)
}

// DecodeBody parses a frame body: the bytes after the length prefix. The
// frame's Payload aliases body.
func DecodeBody(body []byte, f *Frame) error {
	if len(body) == 0 {
		return malformed("empty frame")
	}
	if body[0] != Version {
		return fmt.Errorf("%w: %d", ErrUnknownVersion, body[0])
	}
	envLen, n := binary.Uvarint(body[1:])
	if n <= 0 {
		return malformed("bad envelope length")
	}
	rest := body[1+n:]
	if envLen > uint64(len(rest)) {
		return malformed("envelope length %d exceeds frame", envLen)
	}
	if envLen > MaxEnvelope {
		return &SizeError{What: "envelope", Size: int(envLen), Limit: MaxEnvelope}
	}
	f.Reset()
	if err := decodeEnvelope(rest[:envLen], f); err != nil {
		return err
	}
	if p := rest[envLen:]; len(p) > 0 {
		f.Payload = p
	}
	return nil
}

// Reader reads length-prefixed frames from a stream, reassembling frames that
// arrive in pieces.
type Reader struct {
	br         *bufio.Reader
	maxPayload int
	maxBody    int
	hdr        [lengthSize]byte
	refused    uint64 // body bytes of a frame ReadFrame refused as too large

	budget       Budget                // nil: unlimited; see SetBudget
	frameTimeout time.Duration         // 0: none; see SetFrameTimeout
	setDeadline  func(time.Time) error // the stream's SetReadDeadline
	armed        bool                  // a frame's deadline is set
}

// NewReader returns a Reader that rejects payloads over maxPayload (and so
// frames over MaxFrameSize(maxPayload)) before allocating for them.
func NewReader(r io.Reader, maxPayload int) *Reader {
	return NewReaderSize(r, maxPayload, DefaultReadBuffer)
}

// DefaultReadBuffer is the read buffer of a Reader made by NewReader.
const DefaultReadBuffer = 16 << 10

// NewReaderSize is NewReader with a read buffer of size bytes (at least 16),
// for streams that carry few or small frames: the buffer is held for the
// Reader's life, and a frame body larger than it is read straight into the
// body anyway.
func NewReaderSize(r io.Reader, maxPayload, size int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, size), maxPayload: maxPayload, maxBody: MaxFrameSize(maxPayload)}
}

// SkipRefused discards the body of a frame that the last ReadFrame refused
// as too large, so that the frames after it can still be read. It refuses to
// skip more than limit bytes, since a skipped frame is still received.
func (r *Reader) SkipRefused(limit int) error {
	n := r.refused
	r.refused = 0
	if n == 0 {
		return errors.New("codec: no refused frame to skip")
	}
	if n > uint64(max(limit, 0)) {
		return &SizeError{What: "refused frame", Size: int(min(n, math.MaxInt)), Limit: limit}
	}
	if int(n) > r.br.Buffered() {
		r.arm()
		defer r.disarm()
	}
	if _, err := r.br.Discard(int(n)); err != nil {
		return r.bodyError(err)
	}
	return nil
}

// Buffered reports how many bytes are already buffered, which tells a caller
// whether another frame may be ready without blocking.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// ReadFrame reads the next frame into f. Its payload is freshly allocated and
// owned by the caller. It returns io.EOF at a clean end of stream and
// io.ErrUnexpectedEOF if the stream ends inside a frame. The body of a frame
// that has not fully arrived is never allocated at its announced size: it
// grows as its bytes come (see SetBudget and SetFrameTimeout).
func (r *Reader) ReadFrame(f *Frame) error {
	defer r.disarm()
	if err := r.readHeader(); err != nil {
		return err
	}
	// Compare as uint64: on a 32-bit platform a prefix of 2 GiB or more
	// would turn negative as an int and slip past the limit.
	size := uint64(binary.BigEndian.Uint32(r.hdr[:]))
	r.refused = 0
	if size > uint64(max(r.maxBody, 0)) {
		r.refused = size
		return &SizeError{What: "frame", Size: int(min(size, math.MaxInt)), Limit: r.maxBody}
	}
	body, err := r.readBody(int(size))
	if err != nil {
		return err
	}
	if err := DecodeBody(body, f); err != nil {
		return err
	}
	if len(f.Payload) > r.maxPayload {
		return &SizeError{What: "payload", Size: len(f.Payload), Limit: r.maxPayload}
	}
	return nil
}
