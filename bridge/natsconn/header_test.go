package natsconn

import (
	"reflect"
	"testing"
)

func TestHeaderLookup(t *testing.T) {
	block := Header("NATS/1.0 503 No Responders\r\nA: 1\r\na:2\r\nno colon line\r\n: empty key\r\nB:\t 3 \r\nA: 4\r\n\r\nA: after end\r\n")
	cases := []struct {
		key  string
		want []string
	}{
		{"A", []string{"1", "2", "4"}},
		{"a", []string{"1", "2", "4"}},
		{"B", []string{"3 "}},
		{"C", nil},
		{"", nil},
		{"no colon line", nil},
	}
	for _, tc := range cases {
		if got := values(block, tc.key); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Values(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
	if code, desc := block.Status(); string(code) != "503" || string(desc) != "No Responders" {
		t.Errorf("Status() = %q %q", code, desc)
	}
}

func TestHeaderEdges(t *testing.T) {
	for _, h := range []Header{nil, Header(""), Header("NATS/1.0"), Header("NATS/1.0\r\n"), Header("garbage\nA: 1")} {
		if v, ok := h.Get("A"); ok && string(v) != "1" {
			t.Errorf("%q: Get(A) = %q", h, v)
		}
		h.Status()
	}
	if !AppendHeader(nil, "K", "v").Valid() || string(AppendHeader(AppendHeader(nil, "K", "v"), "L", "w")) != "NATS/1.0\r\nK: v\r\nL: w\r\n\r\n" {
		t.Error("AppendHeader makes a bad block")
	}
}

// TestHeaderLookupDoesNotAllocate: Get and Values read the block in place.
func TestHeaderLookupDoesNotAllocate(t *testing.T) {
	h := AppendHeader(AppendHeader(AppendHeader(nil, "Peer-Node", "n1"), "Other", "x"), "peer-node", "n2")
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := h.Get("PEER-NODE"); !ok {
			t.Fatal("not found")
		}
		for range h.Values("Peer-Node") {
			n++
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per lookup", allocs)
	}
}
