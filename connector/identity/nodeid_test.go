package identity

import (
	"errors"
	"strings"
	"testing"
)

func TestParseNodeID(t *testing.T) {
	id, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	good := string(id.NodeID())
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"valid", good, true},
		{"upper case", strings.ToUpper(good), true},
		{"surrounding space", " " + good + "\n", true},
		{"too short", good[1:], false},
		{"too long", good + "a", false},
		{"outside the alphabet", "1" + good[1:], false},
		{"padding", good[:len(good)-1] + "=", false},
		{"newline inside", good[:10] + "\n" + good[11:], false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNodeID(tt.in)
			if (err == nil) != tt.ok || (tt.ok && string(got) != good) || (!tt.ok && !errors.Is(err, ErrInvalidNodeID)) {
				t.Fatalf("ParseNodeID(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}
