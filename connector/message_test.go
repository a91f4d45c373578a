package connector

import (
	"errors"
	"testing"

	"github.com/peerbridge/peerbridge/connector/identity"
)

func TestParseTarget(t *testing.T) {
	const id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	tests := []struct {
		in      string
		want    Target
		wantErr error
		str     string
	}{
		{in: id + "@127.0.0.1:4000", want: Target{NodeID: id, Endpoint: "127.0.0.1:4000"}, str: id + "@127.0.0.1:4000"},
		{in: id, want: Target{NodeID: id}, str: id},
		{in: "127.0.0.1:4000", want: Target{Endpoint: "127.0.0.1:4000"}, str: "127.0.0.1:4000"},
		{in: "[::1]:4000", want: Target{Endpoint: "[::1]:4000"}, str: "[::1]:4000"},
		{in: "gw.example.org:4433", want: Target{Endpoint: "gw.example.org:4433"}, str: "gw.example.org:4433"},
		{in: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", want: Target{NodeID: id}, str: id},
		{in: "", wantErr: ErrBadTarget},
		{in: "@", wantErr: ErrBadTarget},
		{in: "short@127.0.0.1:1", wantErr: identity.ErrInvalidNodeID},
		{in: id + "@127.0.0.1", wantErr: ErrBadTarget},
		{in: "not-a-node-id", wantErr: ErrBadTarget},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		if got != tt.want || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) || got.String() != tt.str {
			t.Errorf("ParseTarget(%q) = %+v (%q), %v; want %+v, %v", tt.in, got, got.String(), err, tt.want, tt.wantErr)
		}
	}
}
