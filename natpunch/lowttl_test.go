package natpunch

import (
	"testing"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
)

// TestUDPSocketUnderConnector checks that the low-TTL punch finds the UDP
// socket under the connector's transport, which wraps it: without it the
// punch from behind a NAT that takes unsolicited input (docker-host) fails.
func TestUDPSocketUnderConnector(t *testing.T) {
	c, _ := startBridgeServing(t, ClientConfig{Gateways: []connector.Target{natpunchtest.Target(natpunchtest.StartGateway(t, gateway.Config{}))}}, natpunchtest.Echo())
	u, ok := udpSocket(c.Transport().Conn)
	if !ok || u.LocalAddr().String() != c.Addr().String() {
		t.Fatalf("socket %v, %v; want the connector's, on %s", u, ok, c.Addr())
	}
}
