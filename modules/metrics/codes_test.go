package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/peerbridge/peerbridge/bridge"
)

// TestErrorCodesAreBounded: 600 distinct codes, as a hostile peer may
// answer, make at most the known codes plus "other"; known codes keep
// their value.
func TestErrorCodesAreBounded(t *testing.T) {
	m := NewBridge(startConnector(t))
	for code := 400; code < 1000; code++ {
		m.Failed(bridge.Failure{Code: code, Text: "hostile"})
	}
	m.Failed(bridge.Failure{Code: -1})
	if n := testutil.CollectAndCount(m.errors); n != len(knownCodes)+1 {
		t.Errorf("%d series of peerbridge_errors_total, want %d", n, len(knownCodes)+1)
	}
	for _, tc := range []struct {
		label string
		want  float64
	}{
		{"400", 1}, {"403", 1}, {"404", 1}, {"413", 1}, {"429", 1}, {"500", 1}, {"502", 1}, {"503", 1}, {"504", 1},
		{"other", 600 - float64(len(knownCodes)) + 1},
	} {
		if got := testutil.ToFloat64(m.errors.WithLabelValues(tc.label)); got != tc.want {
			t.Errorf("code %s: %v, want %v", tc.label, got, tc.want)
		}
	}
}
