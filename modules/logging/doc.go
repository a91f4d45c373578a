// Package logging builds peerbridge's slog handlers: text or JSON, with
// every duration rounded (Round), and a wrapper that rate-limits repeated
// warnings and errors so a burst of failures costs one line per period,
// with a count of those suppressed.
//
// It lives under modules because it is one of the daemon's operations
// parts (metrics, health and admin HTTP, logging, the status service):
// only modules and cmd wire it; the component packages (bridge, connector,
// natpunch, codec) never import it and take the *slog.Logger they are
// given. Unlike modules itself it does not import fx.
package logging
