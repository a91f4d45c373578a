// Package admin serves peerbridge's operator endpoints over HTTP: GET
// /metrics in the Prometheus text format and GET /healthz, 200 when every
// check passes and 503 with the reasons otherwise.
//
// It lives under modules because it is one of the daemon's operations
// parts (metrics, health and admin HTTP, logging, the status service):
// only modules and cmd wire it, and the component packages (bridge,
// connector, natpunch, codec) never import it, so they stay free of the
// operators' HTTP endpoints and of Prometheus. Unlike modules itself it
// does not import fx.
package admin
