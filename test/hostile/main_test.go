package hostile

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if an attack leaves a goroutine behind, the
// victim's or the attacker's.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
