package portmap

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// Mapper holds one UDP port mapping on the LAN's router for as long as it
// runs: a goroutine it owns maps the port, renews the mapping and deletes
// it on Close. It never blocks its caller on the router.
type Mapper struct {
	cfg   Config
	nonce [NonceLen]byte // the PCP mapping's identity, kept for renewals

	mu   sync.Mutex // guards held
	held Mapping    // the mapping held, zero if none

	upnp *upnpRouter // the discovered IGD; only the goroutine uses it

	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// New returns a mapper for cfg. It does no I/O; Start begins mapping.
func New(cfg Config) (*Mapper, error) {
	cfg.populate()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	m := &Mapper{cfg: cfg}
	rand.Read(m.nonce[:])
	return m, nil
}

// Start starts the mapper's goroutine and returns at once. Call it once,
// and Close to stop it.
func (m *Mapper) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan struct{})
	go func() {
		defer close(m.done)
		m.run(ctx)
	}()
}

// Close stops the mapper, deletes the mapping it holds (waiting at most
// its Timeout for the router), and waits for its goroutine.
func (m *Mapper) Close() error {
	m.once.Do(func() {
		if m.cancel != nil {
			m.cancel()
			<-m.done
		}
	})
	return nil
}

// Mapping returns the mapping held, if any.
func (m *Mapper) Mapping() (Mapping, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.held, m.held.External.IsValid()
}

// run maps, renews and, when ctx ends, deletes.
func (m *Mapper) run(ctx context.Context) {
	backoff := m.cfg.RetryMin
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			m.release()
			return
		case <-t.C:
		}
		got, err := m.acquire(ctx)
		if ctx.Err() != nil {
			continue // released above
		}
		next := m.update(got, err)
		if err != nil {
			next, backoff = backoff, min(backoff*2, m.cfg.RetryMax)
		} else {
			backoff = m.cfg.RetryMin
		}
		t.Reset(next)
	}
}

// update records the result of an attempt, logs and reports a change, and
// returns when to renew.
func (m *Mapper) update(got Mapping, err error) time.Duration {
	m.mu.Lock()
	prev := m.held
	m.held = got
	m.mu.Unlock()
	switch {
	case err != nil && prev.External.IsValid():
		m.cfg.Log.Info("port mapping lost", "protocol", prev.Protocol, "external", prev.External, "err", err)
		m.notify(prev, false)
	case err != nil:
		m.cfg.Log.Debug("no port mapping", "err", err)
	case got.External != prev.External || got.Protocol != prev.Protocol:
		m.cfg.Log.Info("port mapping held", "protocol", got.Protocol, "external", got.External, "internal", got.Internal, "lifetime", got.Lifetime)
		m.notify(got, true)
	}
	return min(m.cfg.RenewEvery, got.Lifetime/2)
}

func (m *Mapper) notify(got Mapping, held bool) {
	if m.cfg.OnChange != nil {
		m.cfg.OnChange(got, held)
	}
}

// acquire maps the port (or renews the mapping held) with the first
// protocol the router grants it with: the held one first, then those of
// the Config in order.
func (m *Mapper) acquire(ctx context.Context) (Mapping, error) {
	gw, err := m.cfg.Gateway()
	if err != nil {
		return Mapping{}, err
	}
	held, _ := m.Mapping()
	order := m.cfg.Protocols
	if held.Protocol != "" {
		order = append([]Protocol{held.Protocol}, order...)
	}
	suggested := m.cfg.Port
	if held.External.IsValid() {
		suggested = held.External.Port()
	}
	var errs []error
	for i, p := range order {
		if i > 0 && p == order[0] {
			continue
		}
		got, err := m.mapWith(ctx, p, gw, suggested)
		if err == nil && got.Lifetime < minLifetime {
			err = fmt.Errorf("%w: %s granted only %v", ErrRefused, p, got.Lifetime)
		}
		if err == nil {
			return got, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return Mapping{}, errors.Join(errs...)
}

// mapWith asks gw for the mapping with protocol p.
func (m *Mapper) mapWith(ctx context.Context, p Protocol, gw netip.Addr, suggested uint16) (Mapping, error) {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	life := uint32(m.cfg.Lifetime / time.Second)
	switch p {
	case PCP:
		return pcpMap(ctx, m.cfg.Dial, gw, m.nonce, m.cfg.Port, suggested, life)
	case NATPMP:
		return pmpMap(ctx, m.cfg.Dial, gw, m.cfg.Port, suggested, life)
	}
	if m.upnp == nil {
		r, err := upnpDiscover(ctx, m.cfg.Dial, gw)
		if err != nil {
			return Mapping{}, err
		}
		m.upnp = r
	}
	got, err := upnpMap(ctx, m.upnp, m.cfg.Port, suggested, life)
	if err != nil {
		m.upnp = nil // discover again next time
	}
	return got, err
}

// release deletes the mapping held, waiting at most the Timeout.
func (m *Mapper) release() {
	held, ok := m.Mapping()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.Timeout)
	defer cancel()
	var err error
	gw, gerr := m.cfg.Gateway()
	switch {
	case gerr != nil:
		err = gerr
	case held.Protocol == PCP:
		_, err = pcpMap(ctx, m.cfg.Dial, gw, m.nonce, m.cfg.Port, 0, 0)
	case held.Protocol == NATPMP:
		_, err = pmpMap(ctx, m.cfg.Dial, gw, m.cfg.Port, 0, 0)
	case m.upnp != nil:
		err = upnpUnmap(ctx, m.upnp, held.External.Port())
	}
	m.mu.Lock()
	m.held = Mapping{}
	m.mu.Unlock()
	if err != nil {
		m.cfg.Log.Info("port mapping given up; the router did not confirm its removal", "protocol", held.Protocol, "external", held.External, "err", err)
	} else {
		m.cfg.Log.Info("port mapping removed", "protocol", held.Protocol, "external", held.External)
	}
	m.notify(held, false)
}
