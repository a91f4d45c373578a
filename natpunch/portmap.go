package natpunch

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/peerbridge/peerbridge/natpunch/portmap"
)

// portMap is the client's port mapping on its router: a portmap.Mapper
// running in the background when ClientConfig.PortMap is set.
type portMap struct {
	m atomic.Pointer[portmap.Mapper] // nil without PortMap; set by Start, read by metrics too
	// changed is signalled (size 1: a pending signal is enough) when a
	// mapping is held, moves or is lost, so the registration loop tells
	// the gateways without waiting for its next round.
	changed chan struct{}
	// registered is closed once a registration carrying a mapping was
	// taken by a gateway.
	registered     chan struct{}
	registeredOnce func()
}

// init makes pm's channels; NewClient calls it.
func (pm *portMap) init() {
	pm.changed, pm.registered = make(chan struct{}, 1), make(chan struct{})
	registered := pm.registered
	pm.registeredOnce = sync.OnceFunc(func() { close(registered) })
}

// PortMapRegistered waits until a gateway has taken a registration that
// carries a port mapping: from then on peers that look this bridge up can
// dial it there.
func (cl *Client) PortMapRegistered(ctx context.Context) error {
	select {
	case <-cl.pm.registered:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("natpunch: no port mapping registered: %w", ctx.Err())
	}
}

// startPortMap starts the mapper for the connector's port. It returns at
// once: the router is asked in the background, so no router answering
// costs start-up nothing. A socket bound to loopback is not mapped: the
// router could not reach it.
func (cl *Client) startPortMap() error {
	if cl.cfg.PortMap == nil || cl.c.Addr().Addr().IsLoopback() {
		return nil
	}
	cfg := *cl.cfg.PortMap
	cfg.Port = cl.c.Addr().Port()
	cfg.Log = cl.log
	cfg.OnChange = func(portmap.Mapping, bool) {
		select {
		case cl.pm.changed <- struct{}{}:
		default:
		}
	}
	m, err := portmap.New(cfg)
	if err != nil {
		return err
	}
	m.Start()
	cl.pm.m.Store(m)
	return nil
}

// closePortMap stops the mapper, which deletes the mapping.
func (cl *Client) closePortMap() error {
	m := cl.pm.m.Load()
	if m == nil {
		return nil
	}
	return m.Close()
}

// PortMapping returns the port mapping the bridge holds on its router, if
// any.
func (cl *Client) PortMapping() (portmap.Mapping, bool) {
	m := cl.pm.m.Load()
	if m == nil {
		return portmap.Mapping{}, false
	}
	return m.Mapping()
}

// mappedAddr is the mapped address to register: empty for none.
func (cl *Client) mappedAddr() string {
	m, ok := cl.PortMapping()
	if !ok {
		return ""
	}
	return m.External.String()
}

// behindObserved reports whether a peer's claimed address ap is on the
// public IP the gateway saw the peer come from, observed: a port of the
// peer's own router, as a port mapping is. Sending there can reach only
// the peer's own site, never a third party of the peer's choosing. A
// loopback, link-local or multicast IP never qualifies: a peer on this
// very host must not have it send to its other ports.
func behindObserved(ap, observed netip.AddrPort) bool {
	return observed.IsValid() && ap.Addr() == observed.Addr() && ap.Addr().IsGlobalUnicast() && ap.Port() != 0
}

// checkPortMap validates a PortMap config before Start fills in the port.
func checkPortMap(c *portmap.Config) error {
	if c == nil {
		return nil
	}
	cfg := *c
	cfg.Port = 1
	if _, err := portmap.New(cfg); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}
