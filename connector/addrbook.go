package connector

import (
	"time"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// The address book (pool.addrs, pool.byEndpoint) learns where each node
// dialled proved its ID, so a later target naming only the node, or only
// the endpoint, finds it. What a node that is gone taught it is forgotten
// after a while, and the oldest first once many are gone: peers cannot
// grow it without bound by answering dials.
const (
	// learnedAddrTTL is how long a node's learned address outlives its
	// last connection.
	learnedAddrTTL = time.Hour
	// maxGoneNodes is the most nodes without a connection whose learned
	// addresses are kept.
	maxGoneNodes = 4096
)

// taughtLocked records endpoint as where id proved its ID in a TLS
// handshake, and as id's address unless that is configured. Nothing else
// changes the address book: an endpoint a message merely names is a hint
// for that message.
func (p *pool) taughtLocked(id identity.NodeID, endpoint string) {
	p.byEndpoint[endpoint] = id
	p.taught[id] = true
	if !p.static[id] {
		p.addrs[id] = endpoint
	}
}

// goneLocked records that id lost its last connection at now, if it taught
// the address book anything, and forgets the node gone longest if more
// than maxGone are.
func (p *pool) goneLocked(id identity.NodeID, now time.Time) {
	if !p.taught[id] {
		return
	}
	p.gone[id] = now
	if len(p.gone) <= p.maxGone {
		return
	}
	var oldest identity.NodeID
	for g, at := range p.gone {
		if oldest == "" || at.Before(p.gone[oldest]) {
			oldest = g
		}
	}
	p.forgetLocked(map[identity.NodeID]bool{oldest: true})
}

// prune forgets what nodes gone for addrTTL or more before now taught the
// address book.
func (p *pool) prune(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var expired map[identity.NodeID]bool
	for id, at := range p.gone {
		if now.Sub(at) >= p.addrTTL {
			if expired == nil {
				expired = make(map[identity.NodeID]bool)
			}
			expired[id] = true
		}
	}
	if expired != nil {
		p.forgetLocked(expired)
	}
}

// forgetLocked drops the learned addresses of the nodes in ids, and every
// endpoint that names one of them.
func (p *pool) forgetLocked(ids map[identity.NodeID]bool) {
	for id := range ids {
		delete(p.gone, id)
		delete(p.taught, id)
		if !p.static[id] {
			delete(p.addrs, id)
		}
	}
	for ep, id := range p.byEndpoint {
		if ids[id] {
			delete(p.byEndpoint, ep)
		}
	}
}

// addrBookLen returns the entries of the address book: learned and static
// addresses, endpoints with a known node.
func (p *pool) addrBookLen() (addrs, endpoints int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.addrs), len(p.byEndpoint)
}
