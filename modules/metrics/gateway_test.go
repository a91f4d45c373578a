package metrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/natpunchtest"
)

// TestGatewayMetrics: a bridge registered with a real gateway shows in its
// registrations gauge.
func TestGatewayMetrics(t *testing.T) {
	g := natpunchtest.StartGateway(t, gateway.Config{})
	c := startConnector(t)
	cl, err := natpunch.NewClient(c, natpunch.ClientConfig{
		Gateways: []connector.Target{natpunchtest.Target(g)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := cl.Registered(ctx); err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewRegistry()
	if err := NewGateway(g).Register(reg); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP peerbridge_gateway_registrations Bridges registered and not expired.
# TYPE peerbridge_gateway_registrations gauge
peerbridge_gateway_registrations 1
# HELP peerbridge_gateway_relay_sessions Relay sessions open.
# TYPE peerbridge_gateway_relay_sessions gauge
peerbridge_gateway_relay_sessions 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "peerbridge_gateway_registrations", "peerbridge_gateway_relay_sessions"); err != nil {
		t.Error(err)
	}
}
