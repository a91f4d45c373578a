package connector

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// connector a test starts is closed by then, so none of its goroutines (nor
// quic-go's) may outlive it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
