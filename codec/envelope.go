package codec

import (
	"bytes"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// envelopeFields is the number of fields this version writes. A reader
// accepts more (from a newer minor revision) and skips them.
const envelopeFields = 7

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

// appendEnvelope appends the msgpack envelope of f to dst.
func appendEnvelope(dst []byte, f *Frame) ([]byte, error) {
	w := &sliceWriter{b: dst}
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(w)
	if err := encodeEnvelope(enc, f); err != nil {
		return dst, err
	}
	return w.b, nil
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
	if err := enc.EncodeUint(uint64(f.Timeout / time.Millisecond)); err != nil {
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
// every count it reads against the bytes that remain, so a small envelope
// cannot claim a huge map or array.
type envelopeDecoder struct {
	r   bytes.Reader
	dec *msgpack.Decoder
}

func decodeEnvelope(b []byte, f *Frame) error {
	d := envelopeDecoder{}
	d.r.Reset(b)
	d.dec = msgpack.GetDecoder()
	defer msgpack.PutDecoder(d.dec)
	d.dec.Reset(&d.r)
	if err := d.decode(f); err != nil {
		return err
	}
	if d.r.Len() != 0 {
		return malformed("%d bytes after envelope", d.r.Len())
	}
	return nil
}

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
	for i := envelopeFields; i < n; i++ {
		if err := d.dec.Skip(); err != nil {
			return malformed("skipping envelope field %d: %v", i, err)
		}
	}
	return nil
}

func (d *envelopeDecoder) fields(f *Frame) error {
	kind, err := d.dec.DecodeUint64()
	if err != nil || kind > 255 {
		return malformed("kind: %v", errOr(err, "out of range"))
	}
	f.Kind = Kind(kind)
	if f.Type, err = d.dec.DecodeString(); err != nil {
		return malformed("type: %v", err)
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
	if err != nil || code < 0 || code > 65535 {
		return malformed("code: %v", errOr(err, "out of range"))
	}
	f.Code = int(code)
	if f.Error, err = d.dec.DecodeString(); err != nil {
		return malformed("error text: %v", err)
	}
	return nil
}

// maxTimeout bounds the timeout a peer can ask for (a day).
const maxTimeout = 24 * time.Hour

func (d *envelopeDecoder) headers() (map[string][]string, error) {
	n, err := d.count("headers", d.dec.DecodeMapLen)
	if err != nil || n <= 0 {
		return nil, err
	}
	h := make(map[string][]string, n)
	for range n {
		k, err := d.dec.DecodeString()
		if err != nil {
			return nil, malformed("header name: %v", err)
		}
		m, err := d.count("header values", d.dec.DecodeArrayLen)
		if err != nil {
			return nil, err
		}
		vs := make([]string, 0, max(m, 0))
		for range m {
			v, err := d.dec.DecodeString()
			if err != nil {
				return nil, malformed("header %q: %v", k, err)
			}
			vs = append(vs, v)
		}
		h[k] = append(h[k], vs...)
	}
	return h, nil
}

// count reads a length with read and checks it against the bytes left: every
// element takes at least one byte.
func (d *envelopeDecoder) count(what string, read func() (int, error)) (int, error) {
	n, err := read()
	if err != nil {
		return 0, malformed("%s length: %v", what, err)
	}
	if n > d.r.Len() {
		return 0, malformed("%s claims %d elements in %d bytes", what, n, d.r.Len())
	}
	return n, nil
}

func errOr(err error, text string) any {
	if err != nil {
		return err
	}
	return text
}
