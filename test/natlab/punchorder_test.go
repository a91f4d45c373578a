package natlab_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/test/natlab"
)

// farWire puts every lab site 800 ms of round trip from every other and
// from the gateway's host.
var farWire = natlab.Wire{Delay: 200 * time.Millisecond}

// TestDockerHostsFarFromGateway punches pairs of Docker-style hosts far
// from their gateway and each other. The asker hears of the punch only
// after the notified side has acknowledged it to the gateway, here 800 ms
// after the notified side, and the notified side's packets take 400 ms to
// the asker's router: had the notified side started punching on the
// planned clock, 150 ms after it opened its own NAT, its packets would
// reach the asker's router 250 ms before the asker's own had left it, and
// a router that takes unsolicited packets into its own stack would move
// the asker's mapping (as it did before the punch kept the order itself).
func TestDockerHostsFarFromGateway(t *testing.T) {
	lab := natlab.New(t, natlab.WithWire(farWire))
	g := startGateway(t, lab.AddPublicHost("gw", 2))
	for i := range 2 {
		pr := matrixPair{a: natlab.DockerHost, b: natlab.DockerHost}
		pr.ha = lab.AddNAT(fmt.Sprintf("f%d-na", i), natlab.DockerHost).AddHost(fmt.Sprintf("f%d-a", i))
		pr.hb = lab.AddNAT(fmt.Sprintf("f%d-nb", i), natlab.DockerHost).AddHost(fmt.Sprintf("f%d-b", i))
		t.Run(fmt.Sprint("pair ", i), func(t *testing.T) {
			res := runPair(t, pr, peerConfig(g), false)
			t.Logf("first a → b %v (%s), b → a %v (%s)", res.firstAB, res.pathAB, res.firstBA, res.pathBA)
		})
	}
}
