package hostile

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/connectortest"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/gateway"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// TestNATRegistrationsExpire is issue 9, point 4: throwaway keys register
// records of about 1 MB of strings, then two hundred more small ones. The gateway must refuse the large records, hold no
// more records than its cap, and return to its baseline heap and an empty
// registry once the TTL and a sweep have passed, without anyone looking the
// records up.
func TestNATRegistrationsExpire(t *testing.T) {
	const (
		keys = 200
		// hugeKeys register 1 MB each; each costs the test as much as forty
		// small ones.
		hugeKeys = 40
		cap_     = 100
		ttl      = 3 * time.Second
	)
	g := natGateway(t, gateway.Config{RegistrationTTL: ttl, PeerKeepAlive: ttl / 4, Limits: gateway.Limits{MaxRegistrations: cap_}})
	base := natHeap()
	huge := make([]string, 16)
	for i := range huge {
		huge[i] = strings.Repeat("1", 60_000)
	}
	var hugeOK, smallOK atomic.Int64
	began := time.Now()
	natThrowaways(t, g, hugeKeys, huge, &hugeOK)
	full := natHeap()
	t.Logf("huge registrations took %v", time.Since(began))
	began = time.Now()
	natThrowaways(t, g, keys, nil, &smallOK)
	st := g.Stats()
	t.Logf("small registrations took %v", time.Since(began))
	t.Logf("%d keys: %d records of about 1 MB accepted, heap %.2f -> %.2f MB; %d keys: %d small records accepted; registry %+v",
		hugeKeys, hugeOK.Load(), mb(base), mb(full), keys, smallOK.Load(), st)
	if hugeOK.Load() != 0 {
		t.Errorf("%d records of about 1 MB were accepted", hugeOK.Load())
	}
	// Records may expire during the registrations on a slow machine, and
	// each goes as its throwaway key's connection closes, so the cap is
	// checked as: never more records than it, and no more accepted than it
	// plus what expired or went, every other one refused.
	if st.Registrations > cap_ || smallOK.Load() > cap_+int64(st.RegistrationsExpired+st.RegistrationsGone) ||
		smallOK.Load()+int64(st.RegistrationsRefused) != keys || st.RegistrationsInvalid != hugeKeys {
		t.Errorf("%d small records accepted, registry %+v: want the cap of %d and refusals counted", smallOK.Load(), st, cap_)
	}
	swept := natWaitFor(func() bool { return g.Stats().Registrations == 0 }, ttl+5*time.Second)
	after := natHeap()
	t.Logf("after the TTL and a sweep: heap %.2f MB, registry %+v", mb(after), g.Stats())
	if !swept {
		t.Errorf("registry still holds %+v after the TTL", g.Stats())
	}
	if after > base+20<<20 {
		t.Errorf("heap %.2f MB after the TTL, baseline %.2f MB", mb(after), mb(base))
	}
}

// natThrowaways registers n fresh keys with g, eight at a time, claiming
// the local addresses local (or each its own address if local is nil), and
// counts the registrations accepted.
func natThrowaways(t *testing.T, g *gateway.Gateway, n int, local []string, ok *atomic.Int64) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if natThrowaway(t, g, local) == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
}

// natThrowaway registers a fresh key with g and closes it.
func natThrowaway(t *testing.T, g *gateway.Gateway, local []string) error {
	id, err := identity.Generate()
	if err != nil {
		t.Error(err)
		return err
	}
	c, err := connector.New(connector.Config{}, id, nil)
	if err == nil {
		err = c.Start(context.Background())
	}
	if err != nil {
		t.Error(err)
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if local == nil {
		local = []string{c.Addr().String()}
	}
	return natRegister(ctx, c, g, local, wire.FilteringIndependent)
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }

// TestNATRegistrationsPerIP is issue 18, row 8: fresh keys from one IP
// registered 9,528 times in 20 s and filled the registry, so a new
// legitimate bridge was refused. One address now holds at most its share
// of records, a bridge at another address still registers, and records go
// as their connections close instead of living out their TTL.
func TestNATRegistrationsPerIP(t *testing.T) {
	const (
		keys  = 40
		perIP = 8
	)
	g := natGateway(t, gateway.Config{Limits: gateway.Limits{MaxRegistrationsPerIP: perIP}})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var attackers []*connector.Connector
	accepted := 0
	for range keys {
		c := natConnector(t)
		attackers = append(attackers, c)
		if natRegister(ctx, c, g, nil, wire.FilteringIndependent) == nil {
			accepted++
		}
	}
	st := g.Stats()
	t.Logf("%d keys from one IP: %d registered, %d refused for the address", keys, accepted, st.RegistrationsRefusedIP)
	if accepted != perIP || st.RegistrationsRefusedIP != keys-perIP {
		t.Errorf("%d of %d keys from one IP registered, %d refused; want %d registered", accepted, keys, st.RegistrationsRefusedIP, perIP)
	}
	legit := connectortest.Start(t, connector.Config{ListenAddr: "127.0.0.2:0"}, nil)
	if err := natRegister(ctx, legit, g, nil, wire.FilteringIndependent); err != nil {
		t.Fatalf("a bridge at another address was refused: %v", err)
	}
	for _, c := range attackers {
		c.Close()
	}
	if !natWaitFor(func() bool { return g.Stats().Registrations == 1 }, 10*time.Second) {
		t.Fatalf("records outlived their connections: %+v", g.Stats())
	}
}
