package natlab_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/natpunch"
	"github.com/peerbridge/peerbridge/test/natlab"
)

// portMapWait bounds a mapped peer's wait for its router's mapping and
// its registration at the gateway.
const portMapWait = 20 * time.Second

// mappedKinds are the pairs of the matrix with a Mapped site: a host
// behind a symmetric NAT whose router runs miniupnpd, with port mapping
// on. Each must come up direct: the mapped port admits anyone.
var mappedKinds = [][2]natlab.Kind{{natlab.Symmetric, natlab.Mapped}, {natlab.Mapped, natlab.Mapped}}

// mappedPairs adds the sites of mappedKinds to lab, or none, saying so,
// when the machine has no miniupnpd: the other rows still run.
func mappedPairs(t *testing.T, lab *natlab.Lab) []matrixPair {
	if err := natlab.PortMappingSupported(); err != nil {
		t.Logf("leaving out the mapped rows: %v", err)
		return nil
	}
	var pairs []matrixPair
	for i, k := range mappedKinds {
		n := fmt.Sprintf("mp%d", i)
		pairs = append(pairs, matrixPair{
			a: k[0], b: k[1],
			ha: addSite(lab, n+"-na", n+"-a", k[0]),
			hb: addSite(lab, n+"-nb", n+"-b", k[1]),
		})
	}
	return pairs
}

// withPortMap is cfg with port mapping on, asking h's router, for a peer
// at a Mapped site; cfg unchanged otherwise.
func withPortMap(cfg natpunch.ClientConfig, k natlab.Kind, h *natlab.Host) natpunch.ClientConfig {
	if k == natlab.Mapped {
		pm := mapperConfig(h, 0)
		cfg.PortMap = &pm
	}
	return cfg
}

// awaitPortMaps waits until the peers at Mapped sites of pr hold their
// mapping and a gateway has registered it.
func awaitPortMaps(t *testing.T, pr matrixPair, a, b *peer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), portMapWait)
	defer cancel()
	for _, s := range []struct {
		k natlab.Kind
		p *peer
	}{{pr.a, a}, {pr.b, b}} {
		if s.k != natlab.Mapped {
			continue
		}
		if err := s.p.cl.PortMapRegistered(ctx); err != nil {
			t.Fatalf("%s: %v", s.p.name, err)
		}
	}
}
