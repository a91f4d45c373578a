package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/peerbridge/peerbridge/natpunch/portmap"
)

type fixedMapping struct {
	m  portmap.Mapping
	ok bool
}

func (f fixedMapping) PortMapping() (portmap.Mapping, bool) { return f.m, f.ok }

func TestPortMap(t *testing.T) {
	for _, tc := range []struct {
		src  fixedMapping
		want string
	}{
		{fixedMapping{}, `peerbridge_port_mapping_up{protocol="NAT-PMP"} 0
peerbridge_port_mapping_up{protocol="PCP"} 0
peerbridge_port_mapping_up{protocol="UPnP"} 0
`},
		{fixedMapping{portmap.Mapping{Protocol: portmap.PCP}, true}, `peerbridge_port_mapping_up{protocol="NAT-PMP"} 0
peerbridge_port_mapping_up{protocol="PCP"} 1
peerbridge_port_mapping_up{protocol="UPnP"} 0
`},
	} {
		reg := prometheus.NewPedanticRegistry()
		if err := NewPortMap(tc.src).Register(reg); err != nil {
			t.Fatal(err)
		}
		want := "# HELP peerbridge_port_mapping_up 1 for the protocol (UPnP, NAT-PMP, PCP) of the port mapping the bridge holds on its router, 0 for the others.\n# TYPE peerbridge_port_mapping_up gauge\n" + tc.want
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "peerbridge_port_mapping_up"); err != nil {
			t.Error(err)
		}
	}
}
