package connector

import "time"

// Defaults for the zero values of Config that commands show as their flags'
// defaults.
const (
	// DefaultIdleTimeout is Config.IdleTimeout's default.
	DefaultIdleTimeout = 2 * time.Minute
)
