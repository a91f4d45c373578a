package natsconn

import (
	"testing"
)

// boundSink checks, for every message, what the parser must never break.
type boundSink struct {
	t          *testing.T
	maxPayload int
}

func (s boundSink) deliver(_ uint64, m *Msg) {
	if len(m.Header)+len(m.Data) > s.maxPayload || len(m.Subject) == 0 {
		s.t.Fatalf("delivered %d+%d bytes on %q, max_payload %d", len(m.Header), len(m.Data), m.Subject, s.maxPayload)
	}
}
func (boundSink) ping()                    {}
func (boundSink) pong()                    {}
func (boundSink) info([]byte) error        { return nil }
func (boundSink) serverErr(t []byte) error { return nil }

// FuzzParser feeds arbitrary server bytes through the parser, cut into
// chunks of step+1 bytes: it must not panic, must deliver nothing larger
// than max_payload, and must hold no buffer beyond its bounds.
func FuzzParser(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in), uint8(0))
		f.Add([]byte(tc.in), uint8(3))
	}
	f.Add(hmsg("a.b", "r", "NATS/1.0\r\nK: v\r\n\r\n", "data"), uint8(7))
	f.Add([]byte("MSG foo 1 99999999999\r\n"), uint8(1))
	const maxLine, maxPayload = 256, 1024
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		p := newParser(boundSink{t, maxPayload}, maxLine)
		p.setMaxPayload(maxPayload)
		n := int(step) + 1
		for len(data) > 0 {
			chunk := data[:min(n, len(data))]
			data = data[len(chunk):]
			if err := p.parse(chunk); err != nil {
				return
			}
			if cap(p.payload) > maxPayload || len(p.arg) > maxLine*infoLineFactor || cap(p.arg) > 2*maxLine*infoLineFactor {
				t.Fatalf("buffers beyond bounds: payload %d, arg %d/%d", cap(p.payload), len(p.arg), cap(p.arg))
			}
		}
	})
}
