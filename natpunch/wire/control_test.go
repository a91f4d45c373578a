package wire

import (
	"errors"
	"runtime"
	"testing"
)

// TestDecodeRefusesHugeClaims sends control messages a few bytes long that
// claim gigabytes. They must fail without the decoder allocating for the
// claim (msgpack's pooled decoders used to keep a buffer of that size).
func TestDecodeRefusesHugeClaims(t *testing.T) {
	claims := map[string][]byte{
		"str32":   []byte("\x81\xa4node\xdb\x7f\xff\xff\xffxx"),
		"bin32":   []byte("\x81\xa7session\xc6\x7f\xff\xff\xffxx"),
		"array32": []byte("\x81\xa5local\xdd\x7f\xff\xff\xff\xc0"),
		"map32":   []byte("\xdf\x7f\xff\xff\xff\xc0\xc0"),
		"ext32":   []byte("\xc9\x7f\xff\xff\xff\x01xx"),
		"nested":  []byte("\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\xc0"),
		"c1":      []byte("\xc1"),
		"trailer": []byte("\x80\x80"),
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for name, b := range claims {
		for range 100 {
			if err := Decode(b, new(RelayGrant)); !errors.Is(err, ErrMsgpack) {
				t.Fatalf("%s: got %v, want errMsgpack", name, err)
			}
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("decoding %d tiny messages allocated %d MB", 100*len(claims), grew>>20)
	}
}

func TestDecodeAcceptsControlMessages(t *testing.T) {
	in := &PunchPlan{Node: "n", Addrs: []string{"198.18.0.13:41811", "198.19.2.10:1"}, Dial: true, DelayMs: -3}
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	var out PunchPlan
	if err := Decode(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Node != in.Node || len(out.Addrs) != 2 || out.Addrs[1] != in.Addrs[1] || !out.Dial || out.DelayMs != -3 {
		t.Fatalf("decoded %+v, want %+v", out, *in)
	}
}
