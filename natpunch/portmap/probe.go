package portmap

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
)

// Probe asks the router gw (invalid: the default gateway) which of the
// protocols it offers, all three at once, each until it answers or ctx
// ends; dial nil means net.Dialer's. A router that answers nothing offers
// none. It maps nothing: PCP is asked for an ANNOUNCE, NAT-PMP for its
// public address and UPnP for its description.
func Probe(ctx context.Context, gw netip.Addr, dial DialFunc) (Offers, error) {
	if !gw.IsValid() {
		var err error
		if gw, err = DefaultGateway(); err != nil {
			return Offers{}, err
		}
	}
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	var o Offers
	var wg sync.WaitGroup
	wg.Go(func() { o.PCP = pcpAnnounce(ctx, dial, gw) == nil })
	wg.Go(func() { o.NATPMP = pmpProbe(ctx, dial, gw) == nil })
	wg.Go(func() {
		_, err := upnpDiscover(ctx, dial, gw)
		o.UPnP = err == nil
	})
	wg.Wait()
	if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return o, err
	}
	return o, nil
}
