// Package logging builds peerbridge's slog handlers: text or JSON, and a
// wrapper that rate-limits repeated warnings and errors so a burst of
// failures costs one line per period, with a count of those suppressed.
package logging
