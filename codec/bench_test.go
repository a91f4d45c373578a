package codec_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/peerbridge/peerbridge/codec"
)

// benchFrames are the frames the connector writes most: a small send, a
// request with headers, and a large reply.
var benchFrames = []struct {
	name string
	f    codec.Frame
}{
	{"send128", codec.Frame{Kind: codec.KindSend, Type: "pubsub.deliver", ID: 7, Payload: make([]byte, 128)}},
	{"request1k_headers", codec.Frame{Kind: codec.KindRequest, Type: "service.calculator.add", ID: 1 << 40,
		Headers: map[string][]string{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, "X-Tenant": {"acme"}},
		Payload: make([]byte, 1024)}},
	{"reply64k", codec.Frame{Kind: codec.KindReply, ID: 99, Payload: make([]byte, 64<<10)}},
}

func BenchmarkAppendFrame(b *testing.B) {
	for _, bf := range benchFrames {
		b.Run(bf.name, func(b *testing.B) {
			buf, err := codec.AppendFrame(nil, &bf.f, codec.DefaultMaxPayload)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				if buf, err = codec.AppendFrame(buf[:0], &bf.f, codec.DefaultMaxPayload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeBody(b *testing.B) {
	for _, bf := range benchFrames {
		b.Run(bf.name, func(b *testing.B) {
			buf, err := codec.AppendFrame(nil, &bf.f, codec.DefaultMaxPayload)
			if err != nil {
				b.Fatal(err)
			}
			body := buf[4:] // past the length prefix
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			var f codec.Frame
			for b.Loop() {
				if err := codec.DecodeBody(body, &f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadFrame reads a stream of frames, as a connection does.
func BenchmarkReadFrame(b *testing.B) {
	for _, bf := range benchFrames {
		b.Run(bf.name, func(b *testing.B) {
			one, err := codec.AppendFrame(nil, &bf.f, codec.DefaultMaxPayload)
			if err != nil {
				b.Fatal(err)
			}
			stream := bytes.Repeat(one, 64)
			b.SetBytes(int64(len(one)))
			b.ReportAllocs()
			src := bytes.NewReader(stream)
			r := codec.NewReader(src, codec.DefaultMaxPayload)
			var f codec.Frame
			for b.Loop() {
				err := r.ReadFrame(&f)
				if err == io.EOF {
					src.Reset(stream)
					r = codec.NewReader(src, codec.DefaultMaxPayload)
					err = r.ReadFrame(&f)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
