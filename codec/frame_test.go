package codec

import (
	"testing"
	"time"
)

func TestKindString(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{0, "unknown"},
		{KindSend, "send"},
		{KindRequest, "request"},
		{KindReply, "reply"},
		{KindError, "error"},
		{KindAck, "ack"},
		{KindPing, "ping"},
		{7, "unknown"},
		{15, "unknown"},
		{KindControl, "control"},
		{255, "control"},
	}
	for _, tt := range tests {
		if got := tt.kind.String(); got != tt.want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(tt.kind), got, tt.want)
		}
	}
}

func TestFrameReset(t *testing.T) {
	f := Frame{Kind: KindError, Type: "t", ID: 1, Headers: map[string][]string{"a": {"b"}}, Timeout: time.Second, Code: 500, Error: "e", Payload: []byte("p")}
	f.Reset()
	if f.Headers != nil || f.Payload != nil || !sameFrame(&f, &Frame{}) {
		t.Fatalf("after Reset: %+v, want the zero Frame", f)
	}
}
