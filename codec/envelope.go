package codec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// envelopeFields is the number of fields this version writes. A reader
// accepts more (from a newer minor revision) and skips them.
const envelopeFields = 7

// maxTimeout bounds the timeout a peer can ask for (a day).
const maxTimeout = 24 * time.Hour

// maxCode bounds an error code.
const maxCode = 65535

// sliceWriter lets a msgpack encoder append to a byte slice.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// WriteByte implements io.ByteWriter so the encoder does not wrap us in a
// bufio.Writer.
func (w *sliceWriter) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}

// envelopeEncoder is a msgpack encoder bound to its own sliceWriter, pooled
// so that encoding a frame allocates nothing beyond growing dst.
type envelopeEncoder struct {
	w   sliceWriter
	enc *msgpack.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := new(envelopeEncoder)
	e.enc = msgpack.NewEncoder(&e.w)
	return e
}}

// checkEnvelope reports a field the decoder would reject, so that a frame is
// refused by its writer rather than by the peer.
func checkEnvelope(f *Frame) error {
	if f.Timeout < 0 || f.Timeout > maxTimeout {
		return malformed("timeout %v out of range [0, %v]", f.Timeout, maxTimeout)
	}
	if f.Code < 0 || f.Code > maxCode {
		return malformed("code %d out of range [0, %d]", f.Code, maxCode)
	}
	return nil
}

// timeoutMillis converts a timeout to the milliseconds that travel, rounding
// a positive timeout under a millisecond up to one rather than down to zero,
// which would mean the receiver's default.
func timeoutMillis(d time.Duration) uint64 {
	ms := uint64(d / time.Millisecond)
	if ms == 0 && d > 0 {
		ms = 1
	}
	return ms
}

// appendEnvelope appends the msgpack envelope of f to dst.
func appendEnvelope(dst []byte, f *Frame) ([]byte, error) {
	e := encoders.Get().(*envelopeEncoder)
	e.w.b = dst
	err := encodeEnvelope(e.enc, f)
	dst = e.w.b
	e.w.b = nil // keep no reference to the caller's buffer
	encoders.Put(e)
	return dst, err
}

func encodeEnvelope(enc *msgpack.Encoder, f *Frame) error {
	if err := enc.EncodeArrayLen(envelopeFields); err != nil {
		return err
	}
	if err := enc.EncodeUint(uint64(f.Kind)); err != nil {
		return err
	}
	if err := enc.EncodeString(f.Type); err != nil {
		return err
	}
	if err := enc.EncodeUint(f.ID); err != nil {
		return err
	}
	if err := encodeHeaders(enc, f.Headers); err != nil {
		return err
	}
	if err := enc.EncodeUint(timeoutMillis(f.Timeout)); err != nil {
		return err
	}
	if err := enc.EncodeInt(int64(f.Code)); err != nil {
		return err
	}
	return enc.EncodeString(f.Error)
}

func encodeHeaders(enc *msgpack.Encoder, h map[string][]string) error {
	if err := enc.EncodeMapLen(len(h)); err != nil {
		return err
	}
	for k, vs := range h {
		if err := enc.EncodeString(k); err != nil {
			return err
		}
		if err := enc.EncodeArrayLen(len(vs)); err != nil {
			return err
		}
		for _, v := range vs {
			if err := enc.EncodeString(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// envelopeDecoder decodes one envelope from an in-memory slice and checks
// every count and string length it reads against the bytes that remain, so a
// small envelope cannot claim a huge map, array or string and make us
// allocate for it. Decoders are pooled, each bound to its own bytes.Reader.
type envelopeDecoder struct {
	b   []byte // the envelope being decoded
	r   bytes.Reader
	dec *msgpack.Decoder
}

var decoders = sync.Pool{New: func() any {
	d := new(envelopeDecoder)
	// bytes.Reader is an io.ByteScanner, so the decoder reads it directly
	// with no buffering: d.r.Len() is exactly what the decoder has not read.
	d.dec = msgpack.NewDecoder(&d.r)
	return d
}}

func decodeEnvelope(b []byte, f *Frame) error {
	d := decoders.Get().(*envelopeDecoder)
	d.b = b
	d.r.Reset(b)
	err := d.decode(f)
	d.b = nil // keep no reference to the caller's buffer
	d.r.Reset(nil)
	decoders.Put(d)
	return err
}

// rest returns the bytes the decoder has not read yet.
func (d *envelopeDecoder) rest() []byte { return d.b[len(d.b)-d.r.Len():] }

func (d *envelopeDecoder) decode(f *Frame) error {
	n, err := d.count("envelope", d.dec.DecodeArrayLen)
	if err != nil {
		return err
	}
	if n < envelopeFields {
		return malformed("envelope has %d fields, want %d", n, envelopeFields)
	}
	if err := d.fields(f); err != nil {
		return err
	}
	// Skip the fields of a newer writer without msgpack's Skip, which
	// recurses once per nesting level and allocates for the lengths a
	// value claims rather than the bytes it has.
	rest := d.rest()
	used, err := skipValues(rest, n-envelopeFields)
	if err != nil {
		return malformed("skipping envelope fields %d to %d: %v", envelopeFields, n-1, err)
	}
	if used != len(rest) {
		return malformed("%d bytes after envelope", len(rest)-used)
	}
	return nil
}

func (d *envelopeDecoder) fields(f *Frame) error {
	kind, err := d.dec.DecodeUint64()
	if err != nil || kind > 255 {
		return malformed("kind: %v", errOr(err, "out of range"))
	}
	f.Kind = Kind(kind)
	if f.Type, err = d.string("type"); err != nil {
		return err
	}
	if f.ID, err = d.dec.DecodeUint64(); err != nil {
		return malformed("id: %v", err)
	}
	if f.Headers, err = d.headers(); err != nil {
		return err
	}
	ms, err := d.dec.DecodeUint64()
	if err != nil || ms > uint64(maxTimeout/time.Millisecond) {
		return malformed("timeout: %v", errOr(err, "out of range"))
	}
	f.Timeout = time.Duration(ms) * time.Millisecond
	code, err := d.dec.DecodeInt64()
	if err != nil || code < 0 || code > maxCode {
		return malformed("code: %v", errOr(err, "out of range"))
	}
	f.Code = int(code)
	if f.Error, err = d.string("error text"); err != nil {
		return err
	}
	return nil
}

func (d *envelopeDecoder) headers() (map[string][]string, error) {
	n, err := d.count("headers", d.dec.DecodeMapLen)
	if err != nil || n <= 0 {
		return nil, err
	}
	h := make(map[string][]string, n)
	for range n {
		k, err := d.string("header name")
		if err != nil {
			return nil, err
		}
		m, err := d.count("header values", d.dec.DecodeArrayLen)
		if err != nil {
			return nil, err
		}
		vs := make([]string, 0, max(m, 0))
		for range m {
			v, err := d.string("header value")
			if err != nil {
				return nil, err
			}
			vs = append(vs, v)
		}
		if prev, ok := h[k]; ok {
			// A repeated name: keep every value, in order.
			vs = append(prev, vs...)
		}
		h[k] = vs
	}
	return h, nil
}

// string decodes a string after checking that the length it claims fits in
// the bytes left.
func (d *envelopeDecoder) string(what string) (string, error) {
	rest := d.rest()
	hdr, size, _, err := head(rest)
	if err != nil {
		return "", malformed("%s: %v", what, err)
	}
	if size > uint64(len(rest)-hdr) {
		return "", malformed("%s claims %d bytes in %d", what, size, len(rest)-hdr)
	}
	s, err := d.dec.DecodeString()
	if err != nil {
		return "", malformed("%s: %v", what, err)
	}
	return s, nil
}

// count reads the length of an array or map with read and checks it against
// the bytes left: every element takes at least one byte. The raw length is
// checked first, because msgpack turns a 32-bit length negative on a 32-bit
// platform, and the decoded one after, in case msgpack read more than the
// header it was shown.
func (d *envelopeDecoder) count(what string, read func() (int, error)) (int, error) {
	rest := d.rest()
	hdr, _, items, err := head(rest)
	if err != nil {
		return 0, malformed("%s length: %v", what, err)
	}
	if isExt(rest[0]) {
		// msgpack would unwrap an extension around an array or map.
		return 0, malformed("%s is an extension", what)
	}
	if items > uint64(len(rest)-hdr) {
		return 0, malformed("%s claims %d elements in %d bytes", what, items, len(rest)-hdr)
	}
	n, err := read()
	if err != nil {
		return 0, malformed("%s length: %v", what, err)
	}
	if n > d.r.Len() {
		return 0, malformed("%s claims %d elements in %d bytes", what, n, d.r.Len())
	}
	return n, nil
}

// isExt reports whether c starts a msgpack extension.
func isExt(c byte) bool { return c >= 0xc7 && c <= 0xc9 || c >= 0xd4 && c <= 0xd8 }

func errOr(err error, text string) any {
	if err != nil {
		return err
	}
	return text
}

// skipValues skips n msgpack values at the start of b and returns the number
// of bytes they take. It keeps a count of values still to skip instead of
// recursing, so nesting depth costs nothing, and it checks every length
// against the bytes left before trusting it.
func skipValues(b []byte, n int) (int, error) {
	pos := 0
	for pending := uint64(n); pending > 0; pending-- {
		hdr, size, items, err := head(b[pos:])
		if err != nil {
			return pos, err
		}
		pos += hdr
		left := uint64(len(b) - pos)
		if size > left {
			return pos, fmt.Errorf("value claims %d bytes in %d", size, left)
		}
		pos += int(size)
		if items > left-size {
			return pos, fmt.Errorf("value claims %d elements in %d bytes", items, left-size)
		}
		pending += items
	}
	return pos, nil
}

// CheckMsgpack reports whether b holds exactly one msgpack value, nested at
// most maxDepth containers deep, whose every declared length and element
// count fits in b. Run it before a msgpack library decodes bytes from the
// network: libraries size their buffers by declared lengths. Errors match
// ErrMalformed.
func CheckMsgpack(b []byte, maxDepth int) error {
	// left[d] counts the values still to read at depth d.
	left := make([]uint64, 1, maxDepth+1)
	left[0] = 1
	pos := 0
	for len(left) > 0 {
		d := len(left) - 1
		if left[d] == 0 {
			left = left[:d]
			continue
		}
		left[d]--
		hdr, size, items, err := head(b[pos:])
		if err != nil {
			return malformed("msgpack at byte %d: %v", pos, err)
		}
		pos += hdr
		rest := uint64(len(b) - pos)
		if size > rest || items > rest-size {
			return malformed("msgpack at byte %d claims %d bytes and %d elements in %d bytes", pos-hdr, size, items, rest)
		}
		pos += int(size)
		if items > 0 {
			if d+1 > maxDepth {
				return malformed("msgpack nested deeper than %d", maxDepth)
			}
			left = append(left, items)
		}
	}
	if pos != len(b) {
		return malformed("%d bytes after the msgpack value", len(b)-pos)
	}
	return nil
}

// head parses the header of the msgpack value at the start of b: the length
// of the header, the number of raw bytes that follow it (a string, binary,
// extension or number) and the number of values nested in it (an array's
// elements, a map's keys and values).
func head(b []byte) (hdr int, size, items uint64, err error) {
	if len(b) == 0 {
		return 0, 0, 0, io.ErrUnexpectedEOF
	}
	c := b[0]
	switch {
	case c <= 0x7f || c >= 0xe0: // positive and negative fixint
		return 1, 0, 0, nil
	case c <= 0x8f: // fixmap
		return 1, 0, 2 * uint64(c&0x0f), nil
	case c <= 0x9f: // fixarray
		return 1, 0, uint64(c & 0x0f), nil
	case c <= 0xbf: // fixstr
		return 1, uint64(c & 0x1f), 0, nil
	}
	// lenSize is the size of a big-endian length after the code, extra the
	// bytes after that length that belong to the header (an extension's
	// type), fixed the size of a value with no length.
	var lenSize, extra int
	var fixed uint64
	perLen := uint64(0) // items per unit of length; 0 means the length counts bytes
	switch c {
	case 0xc0, 0xc2, 0xc3: // nil, false, true
		return 1, 0, 0, nil
	case 0xc4, 0xd9: // bin8, str8
		lenSize = 1
	case 0xc5, 0xda: // bin16, str16
		lenSize = 2
	case 0xc6, 0xdb: // bin32, str32
		lenSize = 4
	case 0xc7: // ext8
		lenSize, extra = 1, 1
	case 0xc8: // ext16
		lenSize, extra = 2, 1
	case 0xc9: // ext32
		lenSize, extra = 4, 1
	case 0xcc, 0xd0: // uint8, int8
		fixed = 1
	case 0xcd, 0xd1: // uint16, int16
		fixed = 2
	case 0xca, 0xce, 0xd2: // float32, uint32, int32
		fixed = 4
	case 0xcb, 0xcf, 0xd3: // float64, uint64, int64
		fixed = 8
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16
		extra, fixed = 1, 1<<(c-0xd4)
	case 0xdc: // array16
		lenSize, perLen = 2, 1
	case 0xdd: // array32
		lenSize, perLen = 4, 1
	case 0xde: // map16
		lenSize, perLen = 2, 2
	case 0xdf: // map32
		lenSize, perLen = 4, 2
	default: // 0xc1, never used
		return 0, 0, 0, fmt.Errorf("invalid code %#x", c)
	}
	hdr = 1 + lenSize + extra
	if len(b) < hdr {
		return 0, 0, 0, io.ErrUnexpectedEOF
	}
	var n uint64
	switch lenSize {
	case 0:
		return hdr, fixed, 0, nil
	case 1:
		n = uint64(b[1])
	case 2:
		n = uint64(binary.BigEndian.Uint16(b[1:]))
	case 4:
		n = uint64(binary.BigEndian.Uint32(b[1:]))
	}
	if perLen > 0 {
		return hdr, 0, perLen * n, nil
	}
	return hdr, n, 0, nil
}
