// Package status lets operators see the bridges on a NATS and their peers.
// A bridge registers a NATS micro service named "peerbridge" (so `nats
// micro ls` and `nats micro info peerbridge` show it) with metadata "node"
// and an endpoint "peers" answering a JSON array of Peer. Discover finds
// every bridge through $SRV.INFO.peerbridge and asks each for its peers;
// WriteTable prints the result for a person.
//
// It lives under modules because it is one of the daemon's operations
// parts (metrics, health and admin HTTP, logging, the status service):
// only modules and cmd wire it, and the component packages (bridge,
// connector, natpunch, codec) never import it. Unlike modules itself it
// does not import fx.
package status
