package natpunch

import (
	"context"
	"time"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// startUpgrade keeps trying, with backoff, to replace a relayed connection
// to id with a direct or punched one. New messages move to the better path
// once it is pooled; what is in flight on the relay finishes there.
func (cl *Client) startUpgrade(gw gatewayRef, id identity.NodeID, opts connector.NATOptions) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.upgrading[id] {
		return
	}
	started := cl.goOwned(func() {
		defer func() {
			cl.mu.Lock()
			delete(cl.upgrading, id)
			cl.mu.Unlock()
		}()
		cl.upgrade(gw, id, opts)
	})
	if started {
		cl.upgrading[id] = true
	}
}

func (cl *Client) upgrade(gw gatewayRef, id identity.NodeID, opts connector.NATOptions) {
	backoff := cl.cfg.UpgradeMin
	for range 1000 { // bounded; with backoff this spans days
		if err := wait(cl.ctx, backoff); err != nil {
			return
		}
		if p, ok := cl.c.PathTo(id); !ok || p != connector.PathRelayed {
			return // gone, or upgraded from the other side
		}
		ctx, cancel := context.WithTimeout(cl.ctx, cl.cfg.DirectTimeout+cl.cfg.PunchTimeout+5*time.Second)
		err := cl.tryUpgrade(ctx, gw, id, opts)
		cancel()
		cl.trace(id, "upgrade", err)
		if err == nil {
			cl.log.Info("relayed peer upgraded", "peer", id.Short())
			return
		}
		backoff = min(2*backoff, cl.cfg.UpgradeMax)
	}
}

// tryUpgrade looks id up again and tries the strategies that beat the
// relay. It dials only the addresses the gateway knows: an explicit
// endpoint was tried at first contact.
func (cl *Client) tryUpgrade(ctx context.Context, gw gatewayRef, id identity.NodeID, opts connector.NATOptions) error {
	info, err := cl.lookup(ctx, gw, id)
	if err != nil {
		return err
	}
	opts.Endpoint = ""
	_, _, err = cl.traverse(ctx, &attempt{gw: gw, id: id, info: info, opts: opts, upgrading: true})
	return err
}
