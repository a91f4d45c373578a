package natpunch

import "testing"

// TestUDPSocketUnderConnector checks that the low-TTL punch finds the UDP
// socket under the connector's transport, which wraps it: without it the
// punch from behind a NAT that takes unsolicited input (docker-host) fails.
func TestUDPSocketUnderConnector(t *testing.T) {
	c, _ := startBridge(t, startGateway(t, RelayLimits{}), nil)
	u, ok := udpSocket(c.Transport().Conn)
	if !ok || u.LocalAddr().String() != c.Addr().String() {
		t.Fatalf("socket %v, %v; want the connector's, on %s", u, ok, c.Addr())
	}
}
