package bridge

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/bridge/natsconn"
	"github.com/peerbridge/peerbridge/codec"
	"github.com/peerbridge/peerbridge/connector"
)

// fullPath is a hotPath whose buffer is full for the first full publishes
// and whose flush fails with flushErr.
type fullPath struct {
	hotPath
	full      int
	flushErr  error
	published int
}

func (p *fullPath) publish(string, string, []byte, []byte) error {
	if p.full > 0 {
		p.full--
		return natsconn.ErrPendingFull
	}
	p.published++
	return nil
}

func (p *fullPath) flush(context.Context) error { return p.flushErr }

// TestFullBufferSlowsPeersDown: a message from a peer that finds the NATS
// buffer full waits for the server to read it and is then published; one
// that cannot wait is refused, and its peer learns why.
func TestFullBufferSlowsPeersDown(t *testing.T) {
	tests := []struct {
		name     string
		path     *fullPath
		wantCode int // 0: published
		wantPub  int
	}{
		{"full once", &fullPath{full: 1}, 0, 1},
		{"full thrice", &fullPath{full: 3}, 0, 1},
		{"server never reads", &fullPath{full: 1, flushErr: context.DeadlineExceeded}, connector.CodeTimeout, 0},
		{"connection lost", &fullPath{full: 1, flushErr: natsconn.ErrConnectionLost}, connector.CodeUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Bridge{hot: tt.path, ctx: context.Background()}
			b.cfg.populate()
			m := &connector.Message{From: newID(t).NodeID(), Kind: codec.KindSend, Type: "t", Payload: []byte("x")}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			err := b.publish(ctx, m)
			re := &connector.RemoteError{}
			errors.As(err, &re)
			if re.Code != tt.wantCode || tt.path.published != tt.wantPub {
				t.Errorf("err %v, %d published; want code %d, %d published", err, tt.path.published, tt.wantCode, tt.wantPub)
			}
		})
	}
}
