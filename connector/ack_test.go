package connector

import (
	"slices"
	"testing"

	"github.com/quic-go/quic-go"
)

// TestTakeAckedTakesOnlyItsRun: an acknowledgement on a stream completes that
// stream's frames up to its number, and no others: not the frames an older
// stream still waits for, not later frames of its own.
func TestTakeAckedTakesOnlyItsRun(t *testing.T) {
	old, cur, other := new(quic.Stream), new(quic.Stream), new(quic.Stream)
	for _, tc := range []struct {
		name  string
		wait  []pending
		st    *quic.Stream
		upTo  uint64
		acked []uint64 // seq of the frames completed
		left  []uint64 // seq of the frames still waiting, in order
	}{
		{"prefix", frames(cur, 1, 5), cur, 3, []uint64{1, 2, 3}, []uint64{4, 5}},
		{"all", frames(cur, 1, 5), cur, 5, []uint64{1, 2, 3, 4, 5}, nil},
		{"none yet", frames(cur, 4, 5), cur, 3, nil, []uint64{4, 5}},
		{"behind an older stream", append(frames(old, 7, 8), frames(cur, 1, 3)...), cur, 2, []uint64{1, 2}, []uint64{7, 8, 3}},
		{"the older stream's", append(frames(old, 7, 8), frames(cur, 1, 3)...), old, 7, []uint64{7}, []uint64{8, 1, 2, 3}},
		{"another stream's number", frames(cur, 1, 3), other, 3, nil, []uint64{1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			took, rest := takeAcked(slices.Clone(tc.wait), tc.st, tc.upTo, nil)
			acked, left := seqs(took), seqs(rest)
			if !slices.Equal(acked, tc.acked) || !slices.Equal(left, tc.left) {
				t.Errorf("acked %v, left %v; want acked %v, left %v", acked, left, tc.acked, tc.left)
			}
		})
	}
}

func seqs(ps []pending) []uint64 {
	var out []uint64
	for _, p := range ps {
		out = append(out, p.seq)
	}
	return out
}

// frames are pending frames from seq first to last on st.
func frames(st *quic.Stream, first, last uint64) []pending {
	var ps []pending
	for seq := first; seq <= last; seq++ {
		ps = append(ps, pending{st: st, seq: seq})
	}
	return ps
}
