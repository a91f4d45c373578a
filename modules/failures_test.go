package modules

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/peerbridge/peerbridge/bridge"
)

// TestFailureLogNamesSubjectPeerAndReason (issue 23): a failed outbound
// message is logged with its subject, its target and the reason.
func TestFailureLogNamesSubjectPeerAndReason(t *testing.T) {
	var buf bytes.Buffer
	failureLog{slog.New(slog.NewTextHandler(&buf, nil))}.Failed(bridge.Failure{Code: 400, Text: "bad Peer-Timeout", Subject: "peer.send.chat", Peer: "abc@127.0.0.1:1"})
	line := buf.String()
	for _, want := range []string{"outbound failed with 400", "subject=peer.send.chat", "peer=abc@127.0.0.1:1", `reason="bad Peer-Timeout"`} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %q", line, want)
		}
	}
}
