package codec

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// TestSkipValues checks the skipper used for a newer writer's fields
// against msgpack's own encoding of every type: it must take exactly the
// bytes of the value.
func TestSkipValues(t *testing.T) {
	tests := []struct {
		name  string
		value any
	}{
		{"positive fixint", 5},
		{"negative fixint", -5},
		{"uint8", uint8(200)},
		{"uint16", uint16(60000)},
		{"uint32", uint32(1 << 31)},
		{"uint64", uint64(math.MaxUint64)},
		{"int8", int8(-100)},
		{"int16", int16(-30000)},
		{"int32", int32(math.MinInt32)},
		{"int64", int64(math.MinInt64)},
		{"float32", float32(1.5)},
		{"float64", 2.5},
		{"nil", nil},
		{"false", false},
		{"true", true},
		{"fixstr", "abc"},
		{"str8", string(make([]byte, 200))},
		{"str16", string(make([]byte, 300))},
		{"str32", string(make([]byte, 70000))},
		{"bin8", make([]byte, 10)},
		{"bin16", make([]byte, 300)},
		{"bin32", make([]byte, 70000)},
		{"fixarray", []any{1, "a", nil}},
		{"array16", make([]any, 20)},
		{"array32", make([]any, 70000)},
		{"fixmap", map[string]any{"a": 1, "b": []any{2}}},
		{"map16", bigMap(20)},
		{"map32", bigMap(70000)},
		{"fixext (time)", time.Unix(1, 0)},
		{"fixext (time with nanoseconds)", time.Unix(1, 1)},
		{"ext8 (time before 1970)", time.Unix(-1, 1)},
		{"nested", []any{map[string]any{"a": []any{[]any{[]any{1}}}}, "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := msgpack.Marshal(tt.value)
			if err != nil {
				t.Fatal(err)
			}
			n, err := skipValues(append(b, 0xc1), 1)
			if err != nil || n != len(b) {
				t.Fatalf("skipValues = %d, %v; want %d, nil", n, err, len(b))
			}
		})
	}
}

func bigMap(n int) map[int]int {
	m := make(map[int]int, n)
	for i := range n {
		m[i] = i
	}
	return m
}

func TestSkipValuesFixext(t *testing.T) {
	// fixext 1, 2, 4, 8 and 16: code, type, then 1 << (code - 0xd4) bytes.
	for code := byte(0xd4); code <= 0xd8; code++ {
		size := 1 << (code - 0xd4)
		b := append([]byte{code, 0x01}, make([]byte, size)...)
		if n, err := skipValues(b, 1); err != nil || n != len(b) {
			t.Fatalf("fixext %#x: skipValues = %d, %v; want %d, nil", code, n, err, len(b))
		}
	}
}

func TestSkipValuesTruncated(t *testing.T) {
	values := []any{uint16(60000), uint64(math.MaxUint64), "abc", make([]byte, 300), []any{1, 2, "three"}, map[string]int{"a": 1}, time.Unix(-1, 1), 1.5}
	for _, v := range values {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(b) {
			if _, err := skipValues(b[:n], 1); err == nil {
				t.Fatalf("%T %x cut to %d bytes: skipValues succeeded", v, b, n)
			}
		}
	}
}

func TestSkipValuesNeverUsedCode(t *testing.T) {
	if _, err := skipValues([]byte{0x92, 0x01, 0xc1}, 1); err == nil {
		t.Fatal("skipValues accepted the never-used code 0xc1")
	}
}

func TestSkipValuesDeepNestingDoesNotRecurse(t *testing.T) {
	b := append(bytes.Repeat([]byte{0x91}, 1<<20), 0x00)
	if n, err := skipValues(b, 1); err != nil || n != len(b) {
		t.Fatalf("skipValues = %d, %v; want %d, nil", n, err, len(b))
	}
}

func TestHeadTruncatedHeader(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"str8", []byte{0xd9}},
		{"str16", []byte{0xda, 0x00}},
		{"str32", []byte{0xdb, 0x00, 0x00, 0x00}},
		{"ext8 without type", []byte{0xc7, 0x01}},
		{"fixext without type", []byte{0xd4}},
		{"array32", []byte{0xdd, 0x00, 0x00}},
		{"map16", []byte{0xde, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, err := head(tt.b); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("head(%x): %v, want io.ErrUnexpectedEOF", tt.b, err)
			}
		})
	}
}

// TestDecodeAllocations pins the allocations of decoding a typical frame:
// the frame's own strings, slices and map, nothing for the decoder.
func TestDecodeAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	f := Frame{Kind: KindRequest, Type: "svc.op", ID: 1, Headers: map[string][]string{"Trace-Id": {"abc"}, "Accept": {"json"}}, Payload: make([]byte, 100)}
	b := encode(t, &f)[lengthSize:]
	var got Frame
	// type, map (two allocations), two names, two value slices, two values
	const want = 9
	if allocs := testing.AllocsPerRun(100, func() { DecodeBody(b, &got) }); allocs > want {
		t.Errorf("DecodeBody takes %v allocations, want at most %d", allocs, want)
	}
}

func TestEncodeAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	f := Frame{Kind: KindRequest, Type: "svc.op", ID: 1, Headers: map[string][]string{"Trace-Id": {"abc"}, "Accept": {"json"}}, Payload: make([]byte, 100)}
	dst := make([]byte, 0, 1024)
	if allocs := testing.AllocsPerRun(100, func() { AppendFrame(dst[:0], &f, DefaultMaxPayload) }); allocs > 0 {
		t.Errorf("AppendFrame into a large enough buffer takes %v allocations, want 0", allocs)
	}
}

func TestCheckMsgpack(t *testing.T) {
	valid, err := msgpack.Marshal(map[string]any{"node": "n", "addrs": []string{"a", "b"}, "n": 7, "ok": true})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckMsgpack(valid, 2); err != nil {
		t.Errorf("valid message: %v", err)
	}
	for name, b := range map[string][]byte{
		"empty":            {},
		"str32 claim":      []byte("\xdb\x7f\xff\xff\xffxx"),
		"array32 claim":    []byte("\xdd\x7f\xff\xff\xff\xc0"),
		"map32 claim":      []byte("\xdf\x7f\xff\xff\xff\xc0\xc0"),
		"ext32 claim":      []byte("\xc9\x7f\xff\xff\xff\x01xx"),
		"too deep":         []byte("\x91\x91\x91\xc0"),
		"never-used c1":    []byte("\xc1"),
		"trailing value":   []byte("\x80\x80"),
		"truncated uint32": []byte("\xce\x00\x01"),
	} {
		if err := CheckMsgpack(b, 2); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	if err := CheckMsgpack([]byte("\x91\x91\xc0"), 2); err != nil {
		t.Errorf("nested exactly two deep: %v", err)
	}
}
