// Package admin serves peerbridge's operator endpoints over HTTP: GET
// /metrics in the Prometheus text format and GET /healthz, 200 when every
// check passes and 503 with the reasons otherwise.
package admin
