package bridge

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/connector"
)

func TestTargetsCollapseDuplicates(t *testing.T) {
	n1, n2 := newID(t).NodeID(), newID(t).NodeID()
	const e1, e2 = "127.0.0.1:1", "127.0.0.1:2"
	tests := []struct {
		name  string
		nodes []string
		eps   []string
		want  []connector.Target
	}{
		{"one node named thrice", []string{n1.String(), n1.String(), n1.String()}, nil, []connector.Target{{NodeID: n1}}},
		{"two nodes, one repeated", []string{n1.String(), n2.String(), n1.String()}, nil, []connector.Target{{NodeID: n1}, {NodeID: n2}}},
		{"one pair repeated", []string{n1.String(), n1.String()}, []string{e1, e1}, []connector.Target{{NodeID: n1, Endpoint: e1}}},
		{"one node at two endpoints", []string{n1.String(), n1.String()}, []string{e1, e2}, []connector.Target{{NodeID: n1, Endpoint: e1}}},
		{"one endpoint repeated", nil, []string{e1, e2, e1}, []connector.Target{{Endpoint: e1}, {Endpoint: e2}}},
		{"as many distinct as the limit", nil, []string{e1, e2, "127.0.0.1:3"}, []connector.Target{{Endpoint: e1}, {Endpoint: e2}, {Endpoint: "127.0.0.1:3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := targetsOf(tt.nodes, tt.eps, 3)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("targets = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestTargetsBounded(t *testing.T) {
	eps := make([]string, 4000) // issue 18 row 9
	for i := range eps {
		eps[i] = fmt.Sprintf("127.0.0.1:%d", 1000+i)
	}
	got, err := targetsOf(nil, eps, 64)
	if !errors.Is(err, ErrTooManyTargets) || got != nil {
		t.Errorf("targets = %d targets, %v; want ErrTooManyTargets", len(got), err)
	}
	if code, _ := codeOf(err); code != connector.CodeBadRequest {
		t.Errorf("code %d, want 400", code)
	}
}

// TestSendToOneNodeNamedManyTimes is issue 18 row 10: one message naming
// the same Peer-Node 10,000 times is delivered once and acknowledged as
// sent to one peer.
func TestSendToOneNodeNamedManyTimes(t *testing.T) {
	a, b := startNode(t, Config{}), startNode(t, Config{})
	a.conn.AddAddress(b.conn.NodeID(), b.endpoint())
	sub := subscribe(t, b.nc, "peer.recv.dup")
	h := nats.Header{HeaderNode: slices.Repeat([]string{b.id()}, 10000)}

	ack := request(t, a.nc, "peer.send.dup", h, []byte("once"))
	next(t, sub)

	if string(ack.Data) != ackOne || errCode(ack) != "" {
		t.Errorf("ack = %q, error code %q; want %s", ack.Data, errCode(ack), ackOne)
	}
	if got := b.bridge.Stats().Inbound; got != 1 {
		t.Errorf("the peer delivered %d copies, want 1", got)
	}
	if got := a.bridge.Stats().Forwarded; got != 1 {
		t.Errorf("the sender forwarded %d copies, want 1", got)
	}
}

// FuzzTargets: whatever the headers, targets returns at most the limit of
// targets, none the same as another, or an error the bridge answers 400.
func FuzzTargets(f *testing.F) {
	n := newID(f).NodeID().String()
	f.Add(n+","+n, "", 2)
	f.Add(n, "127.0.0.1:1", 1)
	f.Add("", "127.0.0.1:1,127.0.0.1:2,127.0.0.1:1", 2)
	f.Add(",", "x,:1", 64)
	f.Fuzz(func(t *testing.T, nodes, endpoints string, limit int) {
		limit = 1 + abs(limit%100)
		var ns, eps []string
		if nodes != "" {
			ns = strings.Split(nodes, ",")
		}
		if endpoints != "" {
			eps = strings.Split(endpoints, ",")
		}
		got, err := targetsOf(ns, eps, limit)
		if err != nil {
			if code, _ := codeOf(err); code != connector.CodeBadRequest {
				t.Fatalf("error %v answered %d, want 400", err, code)
			}
			return
		}
		if len(got) == 0 || len(got) > limit {
			t.Fatalf("%d targets, limit %d", len(got), limit)
		}
		for i := range got {
			for j := range i {
				if sameTarget(got[i], got[j]) {
					t.Fatalf("targets %d and %d are the same: %v", j, i, got)
				}
			}
		}
	})
}

func abs(n int) int { return max(n, -n) }

// targetsOf runs targets, as a bridge with MaxTargets limit does, on
// headers with nodes and endpoints.
func targetsOf(nodes, endpoints []string, limit int) ([]connector.Target, error) {
	b := &Bridge{cfg: Config{MaxTargets: limit}}
	var own peerHeaders
	for _, n := range nodes {
		own.add([]byte(HeaderNode), []byte(n))
	}
	for _, e := range endpoints {
		own.add([]byte(HeaderEndpoint), []byte(e))
	}
	return b.targets(nil, &own)
}
